"""Curators never lose a version: every change is recorded with who and why, and can be undone."""

import pytest
from django.urls import reverse

from negotiations.models import Citation, Demand
from tests.conftest import admin_form_data

pytestmark = pytest.mark.django_db


def change_url(obj):
    return reverse(f"admin:negotiations_{obj._meta.model_name}_change", args=[obj.pk])


def edit(client, obj, reason, **changes):
    page = client.get(change_url(obj))
    response = client.post(change_url(obj), admin_form_data(page, change_reason=reason, **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def test_two_edits_and_a_revert_are_three_named_revisions_with_reasons(curator_client):
    demand = Demand.objects.get(code="RU-I-4")
    edit(curator_client, demand, "Closer to the TASS wording", summary="First edit")
    edit(curator_client, demand, "Shorter", summary="Second edit")
    first = demand.history.get(history_change_reason="Closer to the TASS wording")

    revert_url = reverse(
        "admin:negotiations_demand_simple_history", args=[demand.pk, first.history_id]
    )
    page = curator_client.get(revert_url)
    assert page.status_code == 200
    response = curator_client.post(
        revert_url, admin_form_data(page, change_reason="Back to the first edit")
    )
    assert response.status_code == 302
    demand.refresh_from_db()
    assert demand.summary == "First edit"

    revisions = demand.history.filter(history_user__username="curator")
    assert [r.history_change_reason for r in revisions] == [
        "Back to the first edit",
        "Shorter",
        "Closer to the TASS wording",
    ]
    history_page = curator_client.get(
        reverse("admin:negotiations_demand_history", args=[demand.pk])
    ).content.decode()
    for reason in ("Back to the first edit", "Shorter", "Closer to the TASS wording"):
        assert reason in history_page
    assert "curator" in history_page

    change_log = curator_client.get(reverse("changes")).content.decode()
    assert change_log.count("Changed demand RU-I-4") >= 3
    assert "summary: Second edit → First edit" in change_log
    feed = curator_client.get(reverse("changes-feed")).content.decode()
    assert "Back to the first edit" in feed


def test_a_deleted_record_is_recorded_and_can_be_restored(curator_client):
    citation = Citation.objects.filter(demand__code="RU-I-4").first()
    pk, quote = citation.pk, citation.quote
    delete_url = reverse("admin:negotiations_citation_delete", args=[pk])
    assert curator_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Citation.objects.filter(pk=pk).exists()

    deletion = Citation.history.filter(id=pk, history_type="-").get()
    assert deletion.history_user.username == "curator"
    assert "Deleted citation" in curator_client.get(reverse("changes")).content.decode()

    before_deletion = Citation.history.filter(id=pk, history_type="+").get()
    restore_url = reverse(
        "admin:negotiations_citation_simple_history", args=[pk, before_deletion.history_id]
    )
    page = curator_client.get(restore_url)
    response = curator_client.post(
        restore_url, admin_form_data(page, change_reason="Deleted by mistake")
    )
    assert response.status_code == 302
    assert Citation.objects.get(pk=pk).quote == quote


def test_demand_page_shows_last_changed_and_last_verified(client):
    html = client.get(reverse("demand", args=["RU-I-4"])).content.decode()
    assert "Last changed" in html
    assert "Last verified" in html and "22 November 2026" in html


def test_change_log_and_feed_answer(client):
    assert client.get(reverse("changes")).status_code == 200
    feed = client.get(reverse("changes-feed"))
    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("application/atom+xml")
