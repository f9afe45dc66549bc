"""Each kind of user gets exactly their access to the admin, and guessing passwords is throttled."""

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.urls import reverse

from tests.conftest import make_curator

pytestmark = pytest.mark.django_db

MODELS = [model for model in admin.site._registry if model._meta.app_label == "negotiations"]
VIEWS = ["changelist", "add", "change", "delete", "history"]


def urls(model):
    obj = model.objects.first()
    for view in VIEWS:
        args = [] if view in ("changelist", "add") else [obj.pk]
        yield view, reverse(f"admin:negotiations_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.model_name)
def test_each_role_gets_exactly_its_access(client, django_user_model, model):
    for view, url in urls(model):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response.url, (view, url)

    client.force_login(
        django_user_model.objects.create_user("staff", "", "pw-x-1234567", is_staff=True)
    )
    for view, url in urls(model):
        assert client.get(url).status_code == 403, ("staff without permissions", view, url)

    client.force_login(make_curator("a-curator"))
    for view, url in urls(model):
        expected = 403 if (model._meta.model_name, view) == ("source", "delete") else 200
        assert client.get(url).status_code == expected, ("curator", view, url)

    client.force_login(django_user_model.objects.create_superuser("root", "", "pw-x-1234567"))
    for view, url in urls(model):
        assert client.get(url).status_code == 200, ("superuser", view, url)


def test_repeated_failed_logins_lock_the_account_out(client, django_user_model):
    django_user_model.objects.create_user("curator-x", password="the-right-password", is_staff=True)
    login = reverse("admin:login")
    for _ in range(4):
        response = client.post(login, {"username": "curator-x", "password": "wrong"})
        assert response.status_code == 200
    # The fifth failure reaches the limit: from now on even the right password is refused.
    assert client.post(login, {"username": "curator-x", "password": "wrong"}).status_code == 429
    locked = client.post(login, {"username": "curator-x", "password": "the-right-password"})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_behind_a_proxy_a_guesser_locks_out_only_their_own_address(
    client, django_user_model, settings
):
    settings.TRUSTED_PROXIES = 1
    django_user_model.objects.create_user("curator-z", password="the-right-password", is_staff=True)
    login = reverse("admin:login")
    # Every request arrives from the proxy; the guesser even forges the curator's address
    # before the one the proxy appends.
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    guesser = {**proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.9, 203.0.113.66"}
    for _ in range(5):
        client.post(login, {"username": "curator-z", "password": "wrong"}, **guesser)
    refused = client.post(
        login, {"username": "curator-z", "password": "the-right-password"}, **guesser
    )
    assert refused.status_code == 429
    curator = {**proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.9"}
    response = client.post(
        login, {"username": "curator-z", "password": "the-right-password"}, **curator
    )
    assert response.status_code == 302


def test_behind_a_proxy_a_guesser_changing_the_forged_addresses_is_still_locked_out(
    client, django_user_model, settings
):
    settings.TRUSTED_PROXIES = 1
    django_user_model.objects.create_user("curator-w", password="the-right-password", is_staff=True)
    login = reverse("admin:login")
    # The proxy appends the address it saw (the right-most); whatever the guesser puts before
    # it, a new address per attempt, is not where the attempt came from.
    for attempt in range(5):
        forged = f"198.51.100.{attempt}, 192.0.2.{attempt}"
        headers = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": f"{forged}, 203.0.113.66"}
        client.post(login, {"username": "curator-w", "password": "wrong"}, **headers)
    headers = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "192.0.2.99, 203.0.113.66"}
    right = {"username": "curator-w", "password": "the-right-password"}
    assert client.post(login, right, **headers).status_code == 429


@pytest.mark.parametrize("forwarded", ["not-an-address", "203.0.113.66:4711", "unknown"])
def test_a_forwarded_value_that_is_no_address_counts_as_the_proxy(
    client, django_user_model, settings, forwarded
):
    # Stored as an address (PostgreSQL's inet refuses anything else): never a 500.
    settings.TRUSTED_PROXIES = 1
    django_user_model.objects.create_user("curator-v", password="the-right-password", is_staff=True)
    headers = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": forwarded}
    wrong = {"username": "curator-v", "password": "wrong"}
    response = client.post(reverse("admin:login"), wrong, **headers)
    assert response.status_code == 200
    assert AccessAttempt.objects.get(username="curator-v").ip_address == "10.0.0.2"


def test_a_correct_password_logs_in_before_the_limit(client, django_user_model):
    django_user_model.objects.create_user("curator-y", password="the-right-password", is_staff=True)
    login = reverse("admin:login")
    client.post(login, {"username": "curator-y", "password": "wrong"})
    response = client.post(login, {"username": "curator-y", "password": "the-right-password"})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_weak_passwords_are_refused(django_user_model):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("password")
    with pytest.raises(ValidationError):
        validate_password("12345678")
