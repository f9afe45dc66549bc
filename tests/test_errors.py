"""Errors answer as the client reads them: JSON under /api/, a 503 page while the database is
down, the 500 page otherwise; every response, errors included, carries the security headers."""

import pytest
from django.db import OperationalError

from negotiations import api, views

pytestmark = pytest.mark.django_db


def assert_extra_headers(response):
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    denied = response["Permissions-Policy"].split(", ")
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in denied


def assert_json_error(response, status, detail):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": detail}
    assert_extra_headers(response)


def test_an_unknown_api_address_is_a_json_404(client):
    assert_json_error(client.get("/api/nope"), 404, "Not Found")
    assert_json_error(client.get("/api/parties/"), 404, "Not Found")


def test_a_wrong_method_on_the_api_is_a_json_405_that_says_what_is_allowed(client):
    response = client.post("/api/parties", {})
    assert_json_error(response, 405, "Method Not Allowed")
    assert response["Allow"] == "GET"


def test_a_bad_host_on_the_api_is_a_json_400(client):
    assert_json_error(client.get("/api/parties", HTTP_HOST="elsewhere.example"), 400, "Bad Request")


def test_a_server_error_in_the_api_is_a_json_500(client, monkeypatch):
    def broken():
        raise RuntimeError("a bug")

    monkeypatch.setattr(api, "parties", broken)
    client.raise_request_exception = False
    assert_json_error(client.get("/api/parties"), 500, "Internal Server Error")


def test_the_apis_own_errors_keep_their_detail(client):
    response = client.get("/api/parties", {"limit": 0})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_a_server_error_on_a_page_is_the_500_page(client, monkeypatch):
    def broken():
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "_data_version", broken)
    client.raise_request_exception = False
    response = client.get("/about/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert_extra_headers(response)


def test_a_database_that_cannot_be_reached_is_a_503_page(client, monkeypatch):
    # The production tests run a server whose database cannot be opened; this is the same
    # error, raised where a page first queries.
    def unreachable():
        raise OperationalError("connection refused")

    monkeypatch.setattr(views, "_data_version", unreachable)
    client.raise_request_exception = False
    response = client.get("/about/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "The site is unavailable for a moment" in response.content.decode()
    assert_extra_headers(response)


@pytest.mark.parametrize("path", ["/", "/nope/", "/changes/feed/", "/api/parties", "/healthz"])
def test_every_response_denies_unused_features_and_cross_origin_embedding(client, path):
    assert_extra_headers(client.get(path))
