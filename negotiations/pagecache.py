"""The page cache: whole public pages, keyed on what their view reads and on nothing else."""

import gzip
import hashlib
import re
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import DisallowedHost
from django.http import HttpResponseRedirect
from django.http.request import split_domain_port
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django_htmx.middleware import HtmxDetails

from negotiations.dataversion import data_version

ACCEPTS_GZIP = re.compile(r"\bgzip\b")  # as GZipMiddleware decides
# The headers that decide between a page and an htmx fragment, as django-htmx reads them.
HTMX_HEADERS = ("HX-Request", "HX-Request-URI-AutoEncoded", "HX-History-Restore-Request")
# A parameter left at its default shows what leaving it out shows, so it names the same page.
DEFAULTS = {"format": "html", "page": "1"}


def cached(*params, form=None, free_text=None):
    """Declare a view's page cacheable, keyed on these query parameters and the form's fields.

    Any other parameter (utm_source=…, a cache buster) is redirected away before the view or
    the cache sees it, so no query string can make a new cache entry that the view would not
    render differently. A page with the `free_text` parameter (words typed in a search) is
    not cached: its values have no end, and each would evict a page readers share. A view
    without this declaration is never cached.
    """
    names = frozenset(params) | frozenset(form.base_fields if form else ())

    def declare(view):
        view.cache_params = names
        view.cache_free_text = free_text
        return view

    return declare


def cacheable_host(request):
    """Whether the page for this Host may be cached and served to others. A page's absolute links
    name the host it was asked for; a port no server here listens on (`Host: example.org:6666`)
    would put that port in the links of every reader it was served to, and each such port would
    be a new entry. So such a page is rendered for its client alone. Behind a proxy the host has
    no port, or the scheme's default; a direct client names the port the server listens on."""
    _, port = split_domain_port(request.get_host())
    default = "443" if request.is_secure() else "80"
    return not port or port in (default, request.META.get("SERVER_PORT"))


def release():
    """A fingerprint of what renders the pages: the code, templates and static files. A cache
    the servers share (Redis) outlives a deploy, and must not serve what the code before it
    rendered."""
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


def request_data_version(request):
    """The data version this request renders, read once: the page cache reads it first."""
    if not hasattr(request, "data_version"):
        request.data_version = data_version()
    return request.data_version


def page_key(request, params, version, fragment, gzipped):
    """What names a cached page: the release, the data version, page or fragment, encoding,
    origin, path, and the view's own parameters in a fixed order without empty or default
    values (the view reads the last value of a repeated parameter, so the key does too)."""
    query = sorted(
        (name, value)
        for name in params
        if (value := request.GET.get(name, "")) and value != DEFAULTS.get(name)
    )
    key = "|".join(
        [
            RELEASE,
            str(version),
            f"{fragment:d}{gzipped:d}",
            request.scheme,
            request.get_host(),
            request.path,
            urlencode(query),
        ]
    )
    return "page:" + hashlib.sha256(key.encode()).hexdigest()


def content_etag(response):
    """An entity tag of the content itself: what was sent, decoded, and how it was encoded."""
    body = response.content
    encoding = response.get("Content-Encoding", "")
    if encoding == "gzip":  # gzip's random padding must not make two tags for one page
        body = gzip.decompress(body)
    return f'"{hashlib.sha256(body + encoding.encode()).hexdigest()[:32]}"'


class PageCache:
    """Whole responses of the pages whose views are declared `cached`.

    A page is found by page_key(): any change to curated data bumps the data version (see
    negotiations.dataversion), so a cached page is never served after the data behind it changed,
    and a deploy changes the release. Whether the client gets an htmx fragment or the whole
    page is read from its headers exactly as the view reads them (django-htmx), so no header
    can store a fragment where a page belongs. The ETag is a hash of the content, so a browser
    revalidates with a cheap 304 only when it holds what would be sent.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        try:
            view = resolve(request.path_info).func
        except Resolver404:
            return self.get_response(request)
        params = getattr(view, "cache_params", None)
        if params is None:
            return self.get_response(request)
        if unknown := [name for name in request.GET if name not in params]:
            return self.without(request, unknown)
        if view.cache_free_text and request.GET.get(view.cache_free_text):
            return self.get_response(request)
        try:
            if not cacheable_host(request):
                return self.get_response(request)
        except DisallowedHost:  # answered 400 further in
            return self.get_response(request)
        htmx = HtmxDetails(request)
        fragment = bool(htmx) and not htmx.history_restore_request
        gzipped = bool(ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")))
        version, changed_at = request_data_version(request)
        key = page_key(request, params, version, fragment, gzipped)
        cache = caches["default"]
        response = cache.get(key)
        if response is None:
            response = self.get_response(request)
            if response.status_code != 200 or response.streaming:
                return response
            response["ETag"] = content_etag(response)
            patch_vary_headers(response, (*HTMX_HEADERS, "Accept-Encoding"))
            cache.set(key, response, settings.PAGE_CACHE_SECONDS)
        if changed_at:  # for people; revalidation goes by the ETag alone, since a deploy can
            # change a page while its data stays as it was
            response["Last-Modified"] = http_date(changed_at.timestamp())
        response["Cache-Control"] = "public, max-age=0, must-revalidate"
        return get_conditional_response(request, etag=response["ETag"], response=response)

    @staticmethod
    def without(request, unknown):
        """The same page without the parameters its view does not read."""
        query = request.GET.copy()
        for name in unknown:
            del query[name]
        location = request.path + (f"?{query.urlencode()}" if query else "")
        return HttpResponseRedirect(location)
