"""Security headers Django does not set itself, on every response, errors included."""

from django.conf import settings


def security_headers(get_response):
    """Permissions-Policy (the browser features the site never uses, denied) and
    Cross-Origin-Resource-Policy (no other site may embed what this one serves)."""
    policy = ", ".join(f"{feature}=()" for feature in settings.PERMISSIONS_POLICY_DENIED)

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", policy)
        response.headers.setdefault(
            "Cross-Origin-Resource-Policy", settings.CROSS_ORIGIN_RESOURCE_POLICY
        )
        return response

    return middleware
