"""The production configuration, checked on the real production server with production settings."""

import gzip
import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from negotiations.management.commands.benchmark import start_server

pytestmark = pytest.mark.production

ROOT = Path(__file__).parent.parent
PUBLIC_PAGES = [
    "/",
    "/?topic=neutrality",
    "/search/?q=Orthodox",
    "/compare/?a=ru-position-2025-05-28&b=ru-memorandum",
    "/demands/RU-I-4/",
    "/proposals/ru-memorandum/",
    "/topics/territory/",
    "/sources/",
    "/sources/tass-1967385/",
    "/parties/russia/",
    "/rounds/",
    "/changes/",
    "/changes/feed/",
    "/about/",
    "/api/docs",
]


SECRET = "a-test-secret-key-long-enough-for-the-deploy-check-0123456789-abcdef"


def production_env(tmp_path, database_url):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {
        **env,
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
    }


def manage(env, *args):
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("production")
    env = production_env(tmp, f"sqlite:///{tmp / 'db.sqlite3'}")
    manage(env, "migrate", "--no-input")
    manage(env, "import_fixtures")
    manage(env, "collectstatic", "--no-input")
    # A second server whose database cannot be opened: every page that needs it fails.
    broken_env = production_env(tmp, "sqlite:////nonexistent/directory/db.sqlite3")
    log = open(tmp / "server.log", "w")  # noqa: SIM115 - closed below
    good, good_url = start_server(env, log, workers=1)
    broken, broken_url = start_server(broken_env, log, workers=1)
    yield {"good": good_url, "broken": broken_url, "log": tmp / "server.log"}
    for process in (good, broken):
        process.terminate()
        process.wait(timeout=10)
    log.close()


def get(url, headers=None):
    # As behind the TLS-terminating proxy: the proxy says the request came over HTTPS.
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def assert_security_headers(headers):
    hsts = headers["Strict-Transport-Security"]
    assert int(hsts.split("max-age=")[1].split(";")[0]) >= 31_536_000
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    denied = headers["Permissions-Policy"].split(", ")
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in denied, headers["Permissions-Policy"]


def serve_command(**env):
    """The server command `make serve` runs, with these variables."""
    dry_run = subprocess.run(
        ["make", "--dry-run", "serve", *(f"{name}={value}" for name, value in env.items())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    [command] = [line for line in dry_run.stdout.splitlines() if "granian" in line]
    return command


def test_make_serve_listens_on_this_machine_only_unless_host_says_otherwise():
    # Behind a proxy that DJANGO_TRUSTED_PROXIES trusts, a client that reached the port itself
    # could name a new address in X-Forwarded-For at every login attempt.
    assert "--host 127.0.0.1 " in serve_command()
    assert "--host 0.0.0.0 " in serve_command(HOST="0.0.0.0")


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    env = production_env(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_carries_the_security_headers(servers, path):
    status, headers, _ = get(servers["good"] + path)
    assert status == 200
    assert_security_headers(headers)


def test_an_htmx_fragment_carries_them_too(servers):
    status, headers, body = get(servers["good"] + "/?topic=territory", {"HX-Request": "true"})
    assert status == 200 and "<html" not in body
    assert_security_headers(headers)


def test_head_gets_the_headers_without_the_page(servers):
    # A raw socket, because HTTP clients never read a body after HEAD, whatever the server sends.
    host, port = servers["good"].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
            b"Connection: close\r\n\r\n"
        )
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    length = re.search(rb"(?i)content-length: (\d+)", head)
    assert length and int(length[1]) > 100_000  # what a GET would carry
    assert body == b""


def test_pages_go_out_gzipped_to_browsers(servers):
    request = urllib.request.Request(
        servers["good"] + "/", headers={"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
        assert response.headers["Content-Encoding"] == "gzip"
        assert_security_headers(response.headers)
    assert len(body) < 40_000
    assert "What each side demands, topic by topic" in gzip.decompress(body).decode()


def test_admin_login_sets_only_secure_host_cookies(servers):
    status, headers, _ = get(servers["good"] + "/admin/login/")
    assert status == 200
    assert_security_headers(headers)
    cookies = headers.get_all("Set-Cookie")
    assert cookies and all(
        c.startswith("__Host-") and "Secure" in c and "Path=/" in c for c in cookies
    )


def test_not_found_is_the_custom_404_with_headers(servers):
    status, headers, body = get(servers["good"] + "/no/such/page/")
    assert status == 404 and "Page not found" in body
    assert_security_headers(headers)


@pytest.mark.parametrize("path", ["/", "/demands/RU-I-4/", "/changes/feed/", "/about/"])
def test_without_a_database_pages_are_a_503_with_headers(servers, path):
    status, headers, body = get(servers["broken"] + path)
    assert status == 503 and "The site is unavailable for a moment" in body
    assert headers["Retry-After"] == "30"
    assert_security_headers(headers)


def test_without_a_database_an_address_that_is_no_page_is_still_a_404(servers):
    # No view answers it, so nothing asks the database: never a 500.
    status, headers, body = get(servers["broken"] + "/nope/")
    assert status == 404 and "Page not found" in body
    assert_security_headers(headers)


def test_without_a_database_the_api_answers_a_503_in_json(servers):
    status, headers, body = get(servers["broken"] + "/api/parties")
    assert status == 503 and json.loads(body) == {"detail": "Service Unavailable"}
    assert headers["Content-Type"] == "application/json"
    assert_security_headers(headers)


@pytest.mark.parametrize(
    ("method", "path", "host", "status"),
    [
        ("GET", "/api/nope", "127.0.0.1", 404),
        ("POST", "/api/parties", "127.0.0.1", 405),
        ("GET", "/api/parties", "elsewhere.example", 400),
    ],
)
def test_api_errors_are_json_on_the_production_server(servers, method, path, host, status):
    headers = {"X-Forwarded-Proto": "https", "Host": host}
    request = urllib.request.Request(servers["good"] + path, method=method, headers=headers)
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == status
    assert error.value.headers["Content-Type"] == "application/json"
    assert "detail" in json.loads(error.value.read())
    assert_security_headers(error.value.headers)


def test_plain_http_is_redirected_to_https_except_the_health_check(servers):
    request = urllib.request.Request(servers["good"] + "/rounds/")
    opener = urllib.request.build_opener(
        type(
            "NoRedirect",
            (urllib.request.HTTPRedirectHandler,),
            {"redirect_request": lambda *a, **k: None},
        )
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        opener.open(request, timeout=10)
    assert error.value.code == 301 and error.value.headers["Location"].startswith("https://")
    assert urllib.request.urlopen(servers["good"] + "/healthz", timeout=10).status == 200


def test_health_check_answers_503_without_a_database(servers):
    status, _, body = get(servers["broken"] + "/healthz")
    assert status == 503 and "database unreachable" in body


def test_static_files_are_hashed_and_compressed(servers):
    _, _, page = get(servers["good"] + "/rounds/")
    css = page.split('rel="stylesheet" href="')[1].split('"')[0]
    assert (
        css.startswith("/static/negotiations/site.")
        and css.endswith(".css")
        and css != "/static/negotiations/site.css"
    )
    headers = {"Accept-Encoding": "gzip", "X-Forwarded-Proto": "https"}
    request = urllib.request.Request(servers["good"] + css, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert "immutable" in response.headers["Cache-Control"]


def test_one_log_line_per_request_with_status_and_duration(servers):
    get(servers["good"] + "/search/?q=logcheck")
    # No wait: the server writes the line (and flushes it) before the response goes out.
    lines = [line for line in servers["log"].read_text().splitlines() if "q=logcheck" in line]
    assert len(lines) == 1
    assert " 200 " in lines[0] and lines[0].rstrip().endswith("ms")


class Unfollowed(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect comes back as it is


@pytest.mark.parametrize(
    "headers",
    [
        {"HX-Request": "true", "HX-History-Restore-Request": "0"},
        {"HX-Request": "%74rue", "HX-Request-URI-AutoEncoded": "true"},
    ],
)
def test_no_htmx_header_poisons_the_production_page_cache(servers, headers):
    for path in ["/", "/?topic=ceasefire", "/topics/ceasefire/"]:
        for _ in range(6):
            get(servers["good"] + path, headers)
        status, _, body = get(servers["good"] + path)
        assert status == 200 and "<html" in body, path


def test_a_port_in_the_host_header_changes_no_link_another_reader_gets(servers):
    for _ in range(3):
        get(servers["good"] + "/demands/RU-I-4/", {"Host": "localhost:6666"})
    status, _, body = get(servers["good"] + "/demands/RU-I-4/", {"Host": "localhost"})
    assert status == 200
    assert "https://localhost/demands/RU-I-4/" in body and "6666" not in body


def test_a_cache_buster_is_redirected_to_the_page_without_it(servers):
    opener = urllib.request.build_opener(Unfollowed)
    request = urllib.request.Request(
        servers["good"] + "/?topic=ceasefire&utm_source=x", headers={"X-Forwarded-Proto": "https"}
    )
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(request, timeout=10)
    assert redirect.value.code == 302
    assert redirect.value.headers["Location"] == "/?topic=ceasefire"
