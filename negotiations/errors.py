"""Error responses: JSON under /api/, and a 503 page when the database cannot be reached."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token
from django.views.defaults import server_error as django_server_error

API = "/api/"
# What an error keeps when its page is replaced by JSON: how to ask again, and when.
KEPT_HEADERS = ("Allow", "Retry-After")
# The database is down, unreachable, or busy past the wait: try again later, nothing is broken.
UNREACHABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def api_errors_as_json(get_response):
    """Every error under /api/ as JSON, {"detail": …}, as the API's own errors are: else an
    unknown address (404), a wrong method (405), a bad Host (400) or a server error would be
    an HTML page to a client that reads JSON."""

    def middleware(request):
        response = get_response(request)
        if (
            request.path.startswith(API)
            and response.status_code >= 400
            and response.get("Content-Type", "").split(";")[0] != "application/json"
        ):
            replaced = JsonResponse({"detail": response.reason_phrase}, status=response.status_code)
            for header in KEPT_HEADERS:
                if header in response:
                    replaced[header] = response[header]
            return replaced
        return response

    return middleware


@requires_csrf_token
def server_error(request, template_name="500.html"):
    """Django's 500 page, except when the database cannot be reached: a 503 then says, to
    readers, load balancers and monitors alike, that the site is down for now, not broken.
    Called while the error is being handled, so sys.exception() is the error."""
    if isinstance(sys.exception(), UNREACHABLE):
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return django_server_error(request, template_name)
