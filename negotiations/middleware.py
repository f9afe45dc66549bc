"""Request logging and the page cache."""

import hashlib
import logging
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date

from negotiations.dataversion import data_version

log = logging.getLogger("negotiations.requests")

# Paths that are never cached: per-user or live answers.
UNCACHED = ("/admin/", "/api/", "/healthz", "/static/")
ACCEPTS_GZIP = re.compile(r"\bgzip\b")  # as GZipMiddleware decides


def request_log(get_response):
    """One line per request: method, path, status and duration."""

    def middleware(request):
        start = time.perf_counter()
        response = get_response(request)
        duration = (time.perf_counter() - start) * 1000
        log.info(
            "%s %s %s %.1fms",
            request.method,
            request.get_full_path(),
            response.status_code,
            duration,
        )
        return response

    return middleware


def release():
    """A fingerprint of what renders the pages: the code, templates and static files. A cache
    the servers share (Redis) outlives a deploy, and must not serve what the code before it
    rendered; a browser's ETag must not match either."""
    digest = hashlib.sha256()
    base = settings.BASE_DIR
    paths = [
        base.glob(pattern) for pattern in ("negotiations/**/*.py", "templates/**/*", "static/**/*")
    ]
    for path in sorted(path for found in paths for path in found if path.is_file()):
        digest.update(path.relative_to(base).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


RELEASE = release()


class PageCache:
    """Whole responses of public pages, keyed on the release, the data version, the scheme,
    host and URL, HX-Request and whether the client takes gzip (the response varies on all of
    them: pages such as a demand's carry absolute links).

    Any change to curated data bumps the version (see negotiations.history), so a cached page
    is never served after the data behind it changed. The key doubles as the ETag, so browsers
    and proxies revalidate with a cheap 304.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or request.path.startswith(UNCACHED):
            return self.get_response(request)
        version, changed_at = data_version()
        fragment = request.headers.get("HX-Request") == "true" and not request.headers.get(
            "HX-History-Restore-Request"
        )
        gzip = bool(ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")))
        url = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
        key = f"{RELEASE}|{version}|{fragment}|{gzip}|{url}"
        key = hashlib.sha256(key.encode()).hexdigest()
        etag = f'"{key[:32]}"'
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponseNotModified()
            # As the full response would: the key, and so the ETag, depends on both.
            patch_vary_headers(response, ("HX-Request", "Accept-Encoding"))
        else:
            response = cache.get(f"page:{key}")
            if response is None:
                response = self.get_response(request)
                if response.status_code == 200 and not response.streaming:
                    cache.set(f"page:{key}", response, settings.PAGE_CACHE_SECONDS)
        if response.status_code in (200, 304):
            response["ETag"] = etag
            if changed_at:
                response["Last-Modified"] = http_date(changed_at.timestamp())
            response["Cache-Control"] = "public, max-age=0, must-revalidate"
        return response
