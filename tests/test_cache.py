"""Cached pages are fast and never stale: any curated change shows on the very next request."""

import gzip
import re

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils.http import http_date

from negotiations import middleware
from negotiations.models import DataVersion, Demand
from tests.conftest import IN_CI, admin_form_data

pytestmark = pytest.mark.django_db

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/9",
    }
}


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request, settings):
    settings.CACHES = LOCMEM if request.param == "locmem" else REDIS
    cache = caches["default"]
    if request.param == "redis":
        try:
            cache.clear()
        except Exception as error:  # Redis is part of the stack: CI must have it
            message = f"Redis is not reachable at 127.0.0.1:6379 ({error})"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(f"{message}: the Redis variant of this test is skipped (start Redis)")
    yield request.param
    cache.clear()


def edit_summary(curator_client, code, summary):
    demand = Demand.objects.get(code=code)
    url = reverse("admin:negotiations_demand_change", args=[demand.pk])
    page = curator_client.get(url)
    response = curator_client.post(
        url, admin_form_data(page, summary=summary, change_reason="Cache test")
    )
    assert response.status_code == 302


def test_a_warm_page_costs_one_query(cache_backend, client, django_assert_num_queries):
    client.get("/")
    with django_assert_num_queries(1):  # the data version only
        assert client.get("/").status_code == 200


def without_nonces(html):
    """Each render carries its own CSP nonce; everything else must be the same."""
    return re.sub(rb' nonce="[^"]+"', b"", html)


def test_pages_are_compressed_once_and_served_compressed_from_the_cache(
    cache_backend, client, django_assert_num_queries
):
    plain = client.get("/")
    first = client.get("/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert first["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in first["Vary"]
    assert without_nonces(gzip.decompress(first.content)) == without_nonces(plain.content)
    assert first["ETag"] != plain["ETag"]  # two representations, two entity tags
    with django_assert_num_queries(1):  # the data version only: served from the cache
        again = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert again["Content-Encoding"] == "gzip"
    assert again.content == first.content
    assert "Content-Encoding" not in client.get("/")


def test_an_admin_edit_is_visible_on_the_next_request(cache_backend, client, curator_client):
    assert "Ukraine confirmed free of nuclear" in client.get("/").content.decode()
    edit_summary(curator_client, "RU-I-4", "An edited summary for the cache test")
    html = client.get("/").content.decode()
    assert "An edited summary for the cache test" in html
    assert "Ukraine confirmed free of nuclear" not in html


def test_fragments_are_cached_apart_from_full_pages(cache_backend, client):
    full = client.get("/", {"topic": "territory"}).content.decode()
    fragment = client.get("/", {"topic": "territory"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" in full and "<html" not in fragment
    assert "<html" in client.get("/", {"topic": "territory"}).content.decode()


def test_each_host_and_scheme_gets_its_own_absolute_links(cache_backend, client):
    page = "/demands/RU-I-4/"
    assert (
        "http://localhost/demands/RU-I-4/"
        in client.get(page, HTTP_HOST="localhost").content.decode()
    )
    other_host = client.get(page, HTTP_HOST="127.0.0.1").content.decode()
    assert "http://127.0.0.1/demands/RU-I-4/" in other_host
    assert "localhost" not in other_host
    secure = client.get(page, HTTP_HOST="localhost", secure=True).content.decode()
    assert "https://localhost/demands/RU-I-4/" in secure


def test_a_history_revert_is_visible_on_the_next_request(cache_backend, client, curator_client):
    edit_summary(curator_client, "RU-I-4", "Edited before a revert")
    assert "Edited before a revert" in client.get("/").content.decode()
    demand = Demand.objects.get(code="RU-I-4")
    original = demand.history.filter(history_type="+").get()
    url = reverse("admin:negotiations_demand_simple_history", args=[demand.pk, original.history_id])
    response = curator_client.post(
        url, admin_form_data(curator_client.get(url), change_reason="Undo")
    )
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert "Edited before a revert" not in html
    assert "Ukraine confirmed free of nuclear" in html


def test_conditional_get_answers_304(cache_backend, client, curator_client):
    first = client.get("/rounds/")
    assert first["ETag"] and first["Last-Modified"]
    not_modified = client.get("/rounds/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert not_modified.status_code == 304
    assert {"HX-Request", "Accept-Encoding"} <= {v.strip() for v in not_modified["Vary"].split(",")}
    edit_summary(curator_client, "RU-I-4", "A change makes the old ETag stale")
    assert client.get("/rounds/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_a_new_release_serves_nothing_the_old_one_rendered(
    cache_backend, client, monkeypatch, django_assert_num_queries
):
    first = client.get("/rounds/")
    monkeypatch.setattr(middleware, "RELEASE", "the next release")
    again = client.get("/rounds/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again["ETag"] != first["ETag"]
    with django_assert_num_queries(1):  # cached for this release from now on
        client.get("/rounds/")


def test_the_release_changes_with_any_template(settings, tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text("<p>one</p>")
    settings.BASE_DIR = tmp_path
    before = middleware.release()
    (tmp_path / "templates" / "page.html").write_text("<p>two</p>")
    assert middleware.release() != before


def test_last_modified_is_the_time_of_the_latest_change(client, curator_client):
    edit_summary(curator_client, "RU-I-4", "A change sets Last-Modified")
    changed_at = DataVersion.objects.get().changed_at
    assert client.get("/rounds/")["Last-Modified"] == http_date(changed_at.timestamp())


def test_admin_and_api_are_never_cached(cache_backend, curator_client, client):
    assert "ETag" not in curator_client.get("/admin/")
    assert "ETag" not in client.get("/api/topics")
