"""Settings for negotiations, read from the environment.

The defaults serve a fresh clone: SQLite in the project folder, debug on.
Production sets DJANGO_DEBUG=False, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and
DATABASE_URL (postgres://…). A malformed value stops the start with a message
that names the variable.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: str) -> bool:
    value = os.environ.get(name, default)
    if value not in ("True", "False"):
        raise ImproperlyConfigured(f"Unexpected value {name}={value!r}: use 'True' or 'False'.")
    return value == "True"


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: str) -> int:
    value = os.environ.get(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"Unexpected value {name}={value!r}: use a whole number."
        ) from None


# How long a save on SQLite waits for another to finish before giving up.
SQLITE_WAIT_SECONDS = 20


def env_database(name: str, default: str) -> dict:
    value = os.environ.get(name, default)
    try:
        config = dj_database_url.parse(value, conn_max_age=60, conn_health_checks=True)
    except (ValueError, KeyError) as error:
        raise ImproperlyConfigured(f"Unexpected value {name}={value!r}: {error}") from error
    if config["ENGINE"] not in (
        "django.db.backends.sqlite3",
        "django.db.backends.postgresql",
    ):
        raise ImproperlyConfigured(
            f"Unexpected value {name}={value!r}: use sqlite:///… or postgres://…"
        )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # A transaction that reads, then writes, cannot wait for another writer: SQLite fails
        # it at once, "database is locked". Taking the write lock when it begins (IMMEDIATE)
        # makes each save wait its turn, up to the timeout, then see the other's revision.
        waiting = {"transaction_mode": "IMMEDIATE", "timeout": SQLITE_WAIT_SECONDS}
        config["OPTIONS"] = {**waiting, **config.get("OPTIONS", {})}
    return config


DEBUG = env_bool("DJANGO_DEBUG", "True")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=False.")
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections, checked before reuse: reconnecting per request costs about 4x on
# PostgreSQL over TCP.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DJANGO_CONN_MAX_AGE", "60")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Django's own widget templates, for the form renderer below.
    "django.forms",
    # Full-text search on PostgreSQL; harmless on SQLite.
    "django.contrib.postgres",
    "django_htmx",
    "simple_history",
    "axes",
    "negotiations",
]

MIDDLEWARE = [
    "negotiations.middleware.request_log",
    # Headers first, so every response gets them, errors included.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "negotiations.security.security_headers",
    # Inside the headers, so an error it turns into JSON gets them too.
    "negotiations.errors.api_errors_as_json",
    # Serves compressed, hashed static files in production, before anything else runs.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "negotiations.pagecache.PageCache",
    # Inside the page cache, so a page is compressed once and served compressed from the cache.
    # Django's gzip pads each compression at random against BREACH-style length attacks; the
    # pages it caches are public and hold no secret.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Throttles logins before any other backend sees them.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Admin login policy: 5 failures for one username from one address lock that pair out for an
# hour; a successful login resets the count.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
# Behind a proxy every request comes from the proxy's address, so one guesser would lock every
# curator out: the address that counts is then read from X-Forwarded-For (see client_ip).
AXES_CLIENT_IP_CALLABLE = "negotiations.admin.client_ip"
# How many proxies stand in front of the app (a TLS terminator, a load balancer): 0 when
# clients connect directly.
TRUSTED_PROXIES = env_int("DJANGO_TRUSTED_PROXIES", "0")

ROOT_URLCONF = "negotiations.urls"
WSGI_APPLICATION = "negotiations.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Widgets render with the project's templates, so templates/django/forms/ can override one.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# Caching: local memory by default; Redis when REDIS_URL is set (shared by every app server).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"Unexpected value REDIS_URL={REDIS_URL!r}: use redis://host:port/db"
    )
# Room for every page the site links to (about 230, in two encodings), every provision card
# (about 90, in two sizes) and a few thousand filter combinations; searches are not cached, and
# parameters no page reads redirect, so no client can fill it with pages no one shares.
LOCAL_CACHE_ENTRIES = 5_000
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": LOCAL_CACHE_ENTRIES},
    }
}
# Seconds a rendered page stays in the cache; any curated change invalidates it at once anyway.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", "600")

# Security headers, on every response. A strict Content-Security-Policy: only this site's own
# scripts (with a per-response nonce) and styles, no plugins, no framing.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features the site never uses, denied to it (and to anything injected into it); see
# negotiations.security.
PERMISSIONS_POLICY_DENIED = [
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "fullscreen",
    "geolocation",
    "gyroscope",
    "hid",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "picture-in-picture",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
]
# What this site serves (pages, files, the API) is for this site: no other site may embed it.
CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"

if not DEBUG:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto; HTTPS everywhere.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_HSTS_SECONDS = 31_536_000  # one year
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # __Host- cookies: secure, for this host only, path /.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# One line per request (method, path, status, duration), written by negotiations.middleware.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "negotiations.requests": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django": {"handlers": ["console"], "level": "WARNING"},
    },
}
