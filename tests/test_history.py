"""Curators never lose a version: every change is recorded with who and why, and can be undone."""

import importlib
import json
import math
import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from django.core.management import call_command
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils.html import escape

from negotiations import views
from negotiations.changelog import PAGE_KEYS, TRACKED
from negotiations.dataversion import data_version
from negotiations.models import (
    Citation,
    Demand,
    Disagreement,
    Option,
    Parameter,
    Proposal,
    Relation,
    Section,
    Source,
    Topic,
    Version,
)
from tests.conftest import admin_form_data, make_curator

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
    response = curator_client.post(delete_url, {"post": "yes", "change_reason": "Wrong quote"})
    assert response.status_code == 302
    assert not Citation.objects.filter(pk=pk).exists()

    deletion = Citation.history.filter(id=pk, history_type="-").get()
    assert deletion.history_user.username == "curator"
    assert deletion.history_change_reason == "Wrong quote"
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


def test_every_feed_id_is_an_absolute_iri(client):
    feed = ElementTree.fromstring(client.get(reverse("changes-feed")).content)
    ids = [element.text for element in feed.iter("{http://www.w3.org/2005/Atom}id")]
    assert len(ids) == 51  # the feed's own and fifty entries'
    assert all(urlsplit(id_).scheme in ("http", "https") and urlsplit(id_).netloc for id_ in ids)
    assert len(set(ids)) == len(ids)


def test_the_change_log_pages_back_through_every_change_once(client, monkeypatch):
    monkeypatch.setattr(views, "CHANGES_PAGE_SIZE", 40)
    total = sum(model.history.count() for model in TRACKED)
    anchors, url, numbers = [], reverse("changes"), []
    while url:
        html = client.get(url).content.decode()
        anchors += re.findall(r'<li id="(change-[a-z]+-\d+)">', html)
        numbers.append(int(re.search(r'<ol class="change-log" reversed start="(\d+)">', html)[1]))
        following = re.search(r'<a href="([^"]+)" rel="next">Older changes', html)
        url = reverse("changes") + following[1] if following else None
    assert len(anchors) == len(set(anchors)) == total
    # Numbered from the oldest: the newest change is number `total`, each page going on down.
    assert numbers == list(range(total, 0, -40))


def test_a_page_deep_in_the_change_log_costs_what_the_first_does(
    client, django_assert_max_num_queries
):
    pages = math.ceil(sum(model.history.count() for model in TRACKED) / views.CHANGES_PAGE_SIZE)
    assert pages > 1
    for page in (1, pages):
        # The data version, the count, the page's keys, then per model on the page its history
        # (two with the user's), two for a model's links, and one per model with pages for
        # where they are now (citations' too, whose pages are their sources').
        linked = [model for model in TRACKED if model.history.model._history_m2m_fields]
        pages_now = len(PAGE_KEYS) + 1
        with django_assert_max_num_queries(3 + 2 * len(TRACKED) + 2 * len(linked) + pages_now):
            assert client.get(reverse("changes"), {"page": page}).status_code == 200


def test_a_citation_in_the_change_log_is_named_by_its_quote_and_links_to_it(client):
    citation = Citation.objects.filter(demand__isnull=False).first()
    citation.locator = f"{citation.locator}, first sentence"
    citation.save()
    html = client.get(reverse("changes")).content.decode()
    start = escape(citation.quote[:30])
    assert re.search(rf"Changed citation “{re.escape(start)}[^”]*”: locator: ", html)
    anchor = f'{citation.source.get_absolute_url()}#citation-{citation.pk}"'
    assert anchor in html
    source_page = client.get(citation.source.get_absolute_url()).content.decode()
    assert f'id="citation-{citation.pk}"' in source_page


def test_the_change_log_links_where_a_record_is_now_and_nowhere_once_deleted(client, monkeypatch):
    monkeypatch.setattr(views, "CHANGES_PAGE_SIZE", 10_000)  # every change, the first ones too
    topic = Topic.objects.get(slug="nuclear")
    topic.slug = "nuclear-status"
    topic.save()
    demand = Demand.objects.get(code="RU-I-4")
    demand.delete()
    html = client.get(reverse("changes")).content.decode()
    assert 'href="/topics/nuclear-status/"' in html
    assert 'href="/topics/nuclear/"' not in html  # its earlier entries link the new address
    assert 'href="/demands/RU-I-4/"' not in html  # deleted: no page to link to
    assert "Deleted demand RU-I-4." in html


# Not "page": a test argument of that name is Playwright's browser page.
@pytest.mark.parametrize(
    "number, message",
    [
        ("x", "The page must be a whole number, such as 2."),
        ("0", "Pages start at 1."),
        ("9999", "There is no such page: this list has"),
    ],
)
def test_a_bad_change_log_page_is_a_400_with_the_reason(client, number, message):
    response = client.get(reverse("changes"), {"page": number})
    assert response.status_code == 400
    assert message in response.content.decode()


# Deleting takes dependants and links along; restoring brings them all back.

DEMAND_FIELDS = [
    f.attname
    for f in Demand._meta.concrete_fields
    if f.attname not in {"created_at", "updated_at", "revision", "search_vector"}
]
CITATION_FIELDS = ["pk", "source", "quote", "translation", "locator", "quote_verified", "order"]


def demand_as_it_stands(pk):
    demand = Demand.objects.get(pk=pk)
    return {
        "fields": {name: getattr(demand, name) for name in DEMAND_FIELDS},
        "secondary topics": sorted(demand.secondary_topics.values_list("pk", flat=True)),
        "citations": list(demand.citations.order_by("order", "pk").values(*CITATION_FIELDS)),
        "parameters": list(
            demand.parameters.order_by("pk").values(
                "pk", "name", "bound", "value", "value_max", "unit", "note"
            )
        ),
        "relations": sorted(demand.relations.values_list("pk", flat=True)),
        "disagreements": sorted(demand.disagreements.values_list("pk", flat=True)),
    }


WHY = "Entered twice"


def delete_in_admin(client, obj):
    url = reverse(f"admin:negotiations_{obj._meta.model_name}_delete", args=[obj.pk])
    assert client.get(url).status_code == 200  # the confirmation page
    response = client.post(url, {"post": "yes", "change_reason": WHY})
    assert response.status_code == 302
    assert not type(obj).objects.filter(pk=obj.pk).exists()


def restore_in_admin(client, model, pk, *, from_row, reason="Deleted by mistake"):
    """Open the record's history, pick a revision and save it, as a curator does."""
    history_page = client.get(
        reverse(f"admin:negotiations_{model._meta.model_name}_history", args=[pk])
    )
    assert history_page.status_code == 200
    rows = model.history.filter(id=pk)
    row = (
        rows.filter(history_type="-").first()
        if from_row == "deletion"
        else rows.exclude(history_type="-").first()
    )
    assert row.revert_url() in history_page.content.decode()
    page = client.get(row.revert_url())
    assert page.status_code == 200
    response = client.post(row.revert_url(), admin_form_data(page, change_reason=reason))
    assert response.status_code == 302, response.context["adminform"].form.errors
    return client.get(response.url)


@pytest.mark.parametrize(
    ("code", "from_row"),
    [
        ("UA-T-1", "last revision"),  # one quote unverified
        ("RU-III-2", "deletion"),  # two relations and a secondary topic
    ],
)
def test_a_deleted_demand_comes_back_with_its_quotes_numbers_and_links(
    curator_client, code, from_row
):
    demand = Demand.objects.get(code=code)
    before = demand_as_it_stands(demand.pk)
    assert before["citations"] and before["parameters"]
    assert before["relations"] and before["disagreements"]
    assert any(not c["quote_verified"] for c in before["citations"]) or before["secondary topics"]
    owners = [Relation.objects.get(pk=pk) for pk in before["relations"]] + [
        Disagreement.objects.get(pk=pk) for pk in before["disagreements"]
    ]

    delete_in_admin(curator_client, demand)

    assert not Citation.objects.filter(pk__in=[c["pk"] for c in before["citations"]]).exists()
    assert not Parameter.objects.filter(demand_id=demand.pk).exists()
    deleted_with = Citation.history.filter(demand_id=demand.pk, history_type="-")
    assert {row.history_change_reason for row in deleted_with} == {
        f"Deleted with demand {code} ({WHY})"
    }
    removed = f"Link to {code} removed: {code} was deleted ({WHY})"
    for owner in owners:
        latest = owner.history.first()
        assert latest.history_change_reason == removed
        assert latest.history_user.username == "curator"
        assert not latest.demands.filter(demand_id=demand.pk).exists()
        assert latest.prev_record.demands.filter(demand_id=demand.pk).exists()
        history_page = curator_client.get(
            reverse(f"admin:negotiations_{owner._meta.model_name}_history", args=[owner.pk])
        )
        assert removed in history_page.content.decode()
    deletion = Demand.history.filter(id=demand.pk, history_type="-").get()
    assert all(o.history.first().history_date == deletion.history_date for o in owners)

    version_before_restore = data_version()[0]
    page = restore_in_admin(curator_client, Demand, demand.pk, from_row=from_row)

    assert demand_as_it_stands(demand.pk) == before
    assert data_version()[0] > version_before_restore
    assert "Restored with it" in page.content.decode()
    restored = Citation.history.filter(demand_id=demand.pk, history_type="+").first()
    assert restored.history_change_reason == f"Restored with demand {code}"
    assert restored.history_user.username == "curator"
    for owner in owners:
        latest = owner.history.first()
        assert latest.history_change_reason == f"Link to {code} restored: {code} was restored"
        assert latest.demands.filter(demand_id=demand.pk).exists()
    # The public page shows it again, quotes and all.
    html = curator_client.get(reverse("demand", args=[code])).content.decode()
    assert before["citations"][0]["quote"][:40] in html.replace("&#x27;", "'")


def test_a_deleted_disagreement_comes_back_with_its_versions_and_their_quotes(curator_client):
    disagreement = Disagreement.objects.get(code="D15")

    def as_it_stands():
        d = Disagreement.objects.get(pk=disagreement.pk)
        return {
            "title": d.title,
            "assessment": d.assessment,
            "demands": sorted(d.demands.values_list("pk", flat=True)),
            "versions": list(d.versions.values("pk", "order", "claim")),
            "citations": list(
                Citation.objects.filter(version__disagreement=d)
                .order_by("version__order", "order", "pk")
                .values("version", *CITATION_FIELDS)
            ),
        }

    before = as_it_stands()
    assert len(before["versions"]) == 2 and len(before["citations"]) == 4 and before["demands"]

    delete_in_admin(curator_client, disagreement)
    assert not Version.objects.filter(disagreement_id=disagreement.pk).exists()
    reasons = {
        row.history_change_reason
        for model in (Version, Citation)
        for row in model.history.filter(history_type="-")
        if row.history_change_reason and "D15" in row.history_change_reason
    }
    assert reasons == {f"Deleted with disagreement D15 ({WHY})"}
    assert (
        Citation.history.filter(
            version_id__in=[v["pk"] for v in before["versions"]], history_type="-"
        ).count()
        == 4
    )

    restore_in_admin(curator_client, Disagreement, disagreement.pk, from_row="last revision")
    assert as_it_stands() == before


def test_a_deleted_section_comes_back_with_its_options(curator_client):
    proposal = Proposal.objects.first()
    section = Section(proposal=proposal, label="Z", title="A section to delete", order=99)
    section._change_reason = "Test data"
    section.save()
    for order in (1, 2):
        option = Option(section=section, label=f"Option {order}", title=f"Way {order}", order=order)
        option._change_reason = "Test data"
        option.save()
    before = list(section.options.values("pk", "label", "title", "order"))

    delete_in_admin(curator_client, section)
    assert not Option.objects.filter(section_id=section.pk).exists()

    restore_in_admin(curator_client, Section, section.pk, from_row="deletion")
    assert (
        list(Section.objects.get(pk=section.pk).options.values("pk", "label", "title", "order"))
        == before
    )
    assert {r.history_change_reason for r in Option.history.filter(section_id=section.pk)} >= {
        f"Deleted with section Z ({WHY})",
        "Restored with section Z",
    }


def test_deleting_a_topic_records_the_demands_that_lose_it_as_a_secondary_topic(curator_client):
    topic = Topic(slug="spare", code="T99", name="Spare", description="Unused.", order=99)
    topic._change_reason = "Test data"
    topic.save()
    demand = Demand.objects.get(code="RU-I-4")
    demand._change_reason = "Test data"
    demand.secondary_topics.add(topic)

    delete_in_admin(curator_client, topic)

    latest = demand.history.first()
    assert latest.history_change_reason == f"Link to T99 removed: T99 was deleted ({WHY})"
    assert not latest.secondary_topics.filter(topic_id=topic.pk).exists()


def test_the_change_log_names_curators_by_name_never_by_login(client):
    curator = make_curator("okovalenko")
    demand = Demand.objects.get(code="RU-I-4")
    demand.summary = "Edited by a curator without a name"
    demand._history_user = curator
    demand.save()
    anonymous = client.get(reverse("changes")).content.decode()
    assert "a curator" in anonymous

    version = data_version()
    curator.set_password("a new password for the test")
    curator.save()
    assert data_version() == version  # no page shows a password

    curator.first_name, curator.last_name = "Olena", "Kovalenko"
    curator.save()
    change_log = client.get(reverse("changes")).content.decode()
    feed = client.get(reverse("changes-feed")).content.decode()
    for public in (change_log, feed):
        assert "Olena Kovalenko" in public
        assert curator.username not in public


def test_a_curator_sees_who_changed_a_record_without_a_link_they_may_not_open(
    curator_client, admin_client
):
    demand = Demand.objects.get(code="RU-I-4")
    edit(curator_client, demand, "Shorter", summary="Shorter summary")
    history_url = reverse("admin:negotiations_demand_history", args=[demand.pk])
    user_page = reverse("admin:auth_user_change", args=[demand.history.latest().history_user_id])

    curators_view = curator_client.get(history_url).content.decode()
    assert re.search(r"<td>\s*curator\s*</td>", curators_view)  # the name, not a link
    assert user_page not in curators_view
    assert curator_client.get(user_page).status_code == 403
    # A superuser may open it, so it stays a link for them.
    assert user_page in admin_client.get(history_url).content.decode()


def test_a_curator_finds_a_deleted_record_and_the_history_it_is_restored_from(
    curator_client, django_assert_max_num_queries
):
    disagreement = Disagreement.objects.get(code="D2")
    versions = list(disagreement.versions.values_list("pk", flat=True))
    delete_url = reverse("admin:negotiations_disagreement_delete", args=[disagreement.pk])
    response = curator_client.post(delete_url, {"post": "yes", "change_reason": "Merged into D1"})
    assert response.status_code == 302

    changelist = curator_client.get(reverse("admin:negotiations_disagreement_changelist"))
    deleted_url = reverse("admin:negotiations_disagreement_deleted")
    assert deleted_url in changelist.content.decode()
    deleted = curator_client.get(deleted_url).content.decode()
    history_url = reverse("admin:negotiations_disagreement_history", args=[disagreement.pk])
    assert f'href="{history_url}"' in deleted
    assert "Merged into D1" in deleted and f"D2</a>: {disagreement.title}" in deleted

    # Its versions went with it: listed, and their histories open, with no disagreement left.
    with django_assert_max_num_queries(12):
        deleted_versions = curator_client.get(reverse("admin:negotiations_version_deleted"))
    assert deleted_versions.status_code == 200
    for pk in versions:
        history = reverse("admin:negotiations_version_history", args=[pk])
        assert f'href="{history}"' in deleted_versions.content.decode()
        assert curator_client.get(history).status_code == 200
        first = Version.history.filter(id=pk).earliest()
        revert = reverse("admin:negotiations_version_simple_history", args=[pk, first.history_id])
        assert curator_client.get(revert).status_code == 200

    imported = disagreement.history.earliest()
    restore_url = reverse(
        "admin:negotiations_disagreement_simple_history",
        args=[disagreement.pk, imported.history_id],
    )
    page = curator_client.get(restore_url)
    restored = curator_client.post(restore_url, admin_form_data(page, change_reason="Not merged"))
    assert restored.status_code == 302
    assert f'href="{history_url}"' not in curator_client.get(deleted_url).content.decode()


def test_the_deleted_records_list_is_for_those_who_may_see_the_records(client, django_user_model):
    visitor = django_user_model.objects.create_user("visitor", is_staff=True)
    client.force_login(visitor)
    assert client.get(reverse("admin:negotiations_demand_deleted")).status_code == 403


def test_a_revert_page_names_the_quotes_changed_since_with_their_own_histories(curator_client):
    demand = Demand.objects.get(code="RU-III-5")
    imported = demand.history.earliest()
    citation = demand.citations.first()
    url = reverse("admin:negotiations_citation_change", args=[citation.pk])
    page = curator_client.get(url)
    edit = admin_form_data(page, quote=citation.quote[:-1], change_reason="Shorter")
    assert curator_client.post(url, edit).status_code == 302

    revert_url = reverse(
        "admin:negotiations_demand_simple_history", args=[demand.pk, imported.history_id]
    )
    html = curator_client.get(revert_url).content.decode()
    assert reverse("admin:negotiations_citation_history", args=[citation.pk]) in html
    untouched = demand.citations.exclude(pk=citation.pk).first()
    assert reverse("admin:negotiations_citation_history", args=[untouched.pk]) not in html
    assert "keep their current state" in html
    assert "Revert demand" in html and "Historical demands" not in html


def test_a_save_that_changes_fields_and_links_is_one_revision_holding_both(curator_client):
    demand = Demand.objects.get(code="RU-I-4")
    topic = Topic.objects.exclude(pk=demand.topic_id).exclude(secondary_demands=demand).first()
    before = demand.history.count()
    edit(
        curator_client,
        demand,
        "Also about this topic",
        summary="Edited with a new secondary topic",
        secondary_topics=[*demand.secondary_topics.values_list("pk", flat=True), topic.pk],
    )
    assert demand.history.count() == before + 1
    latest = demand.history.latest()
    assert latest.summary == "Edited with a new secondary topic"
    assert topic.pk in latest.secondary_topics.values_list("topic_id", flat=True)


def test_the_change_log_says_which_links_a_save_changed(curator_client):
    demand = Demand.objects.get(code="RU-I-4")
    topic = Topic.objects.exclude(pk=demand.topic_id).exclude(secondary_demands=demand).first()
    edit(curator_client, demand, "Also about this", secondary_topics=[topic.pk])
    change_log = curator_client.get(reverse("changes")).content.decode()
    assert f"Changed demand RU-I-4: secondary topics: empty → {topic.name}." in change_log


def revert_page(client, demand, record):
    url = reverse("admin:negotiations_demand_simple_history", args=[demand.pk, record.history_id])
    return client.get(url).content.decode()


def test_a_revert_page_leaves_out_rows_saved_with_that_version_or_restored_as_they_were(
    curator_client,
):
    demand = Demand.objects.get(code="RU-III-5")
    citation = demand.citations.first()
    history_link = reverse("admin:negotiations_citation_history", args=[citation.pk])
    # One save: the summary and a quote's locator. Reverting to it keeps that locator.
    url = reverse("admin:negotiations_demand_change", args=[demand.pk])
    rows = {"citations-0-locator": "para. 2, sentence 1"}
    data = admin_form_data(curator_client.get(url), summary="New", change_reason="x", **rows)
    assert curator_client.post(url, data).status_code == 302
    saved_together = demand.history.latest()
    assert citation.history.latest().locator == "para. 2, sentence 1"
    edit(curator_client, demand, "Shorter", summary="Newer")
    assert history_link not in revert_page(curator_client, demand, saved_together)

    # Deleted and restored as it was: nothing a revert to the import would leave different.
    imported = demand.history.earliest()
    delete_url = reverse("admin:negotiations_demand_delete", args=[demand.pk])
    assert curator_client.post(delete_url, {"post": "yes", "change_reason": "x"}).status_code == 302
    restore_url = reverse(
        "admin:negotiations_demand_simple_history", args=[demand.pk, saved_together.history_id]
    )
    page = curator_client.get(restore_url)
    assert (
        curator_client.post(restore_url, admin_form_data(page, change_reason="y")).status_code
        == 302
    )
    html = revert_page(curator_client, demand, imported)
    assert history_link in html  # its locator was changed after the import
    others = demand.citations.exclude(pk=citation.pk)
    for other in others:
        assert reverse("admin:negotiations_citation_history", args=[other.pk]) not in html


def test_kinding_sources_by_publisher_moves_their_history_too_and_back():
    from django.apps import apps

    migration = importlib.import_module(
        "negotiations.migrations.0014_source_publisher_kind_and_copies"
    )
    tass = Source.objects.get(slug="tass-1967385")
    nsn = Source.objects.get(slug="nsn-medinskii-rf-i-ukraina-obmenyautsya-molodymi-soldatami")
    rows = tass.history.count(), nsn.history.count()
    version = data_version()[0]
    migration.backward(apps, None)  # as before the migration
    assert tass.history.filter(kind="state-media").count() == rows[0]
    assert nsn.history.filter(kind="other-media").count() == rows[1]
    assert not Source.history.filter(kind__in=["agency", "newspaper"]).exists()
    migration.forward(apps, None)
    tass.refresh_from_db()
    assert (tass.kind, tass.state_media) == ("agency", True)
    assert tass.history.filter(kind="agency", state_media=True).count() == rows[0]
    assert nsn.history.filter(kind="newspaper", state_media=False).count() == rows[1]
    assert not Source.history.filter(kind__in=migration.FORWARD).exists()
    assert data_version()[0] == version + 2  # pages cached with the old values are dropped


def test_a_demands_page_links_to_its_own_changes_quotes_and_numbers_included(client):
    demand = Demand.objects.get(code="RU-I-4")
    citation = demand.citations.first()
    before = citation.locator
    citation.locator += " (edited)"
    citation.save()
    page = client.get(demand.get_absolute_url()).content.decode()
    assert '<a href="/changes/?demand=RU-I-4">its changes</a>' in page
    html = client.get(reverse("changes"), {"demand": "RU-I-4"}).content.decode()
    expected = (
        demand.history.count()
        + Citation.history.filter(demand_id=demand.pk).count()
        + Parameter.history.filter(demand_id=demand.pk).count()
    )
    assert f"Changes 1–{expected} of {expected}, newest first." in html
    assert "Changed citation “" in html and f"locator: {before} → {before} (edited)" in html
    assert "Added demand RU-I-4." in html
    assert "Added demand RU-I-5." not in html


def test_a_deleted_demands_changes_stay_readable_and_an_unknown_code_is_a_400(client):
    demand = Demand.objects.get(code="AG-8")
    demand.delete()
    html = client.get(reverse("changes"), {"demand": "AG-8"}).content.decode()
    assert "Deleted demand AG-8." in html
    assert "AG-8 (since deleted)" in html
    response = client.get(reverse("changes"), {"demand": "XX-99"})
    assert response.status_code == 400
    assert "No provision has ever had the identifier “XX-99”." in response.content.decode()


@contextmanager
def saves_seen(model):
    """The post_save signals `model` sends meanwhile, as a receiver connected now sees them."""
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_save.connect(receiver, sender=model)
    try:
        yield seen
    finally:
        post_save.disconnect(receiver, sender=model)


def test_an_admin_save_runs_each_receiver_once_and_records_one_revision(curator_client, curator):
    demand = Demand.objects.get(code="RU-I-4")
    topic = Topic.objects.exclude(pk=demand.topic_id).exclude(secondary_demands=demand).first()
    before = demand.history.count()
    with saves_seen(Demand) as seen:
        edit(curator_client, demand, "One save", summary="Saved once", secondary_topics=[topic.pk])
    assert seen == [demand.pk]
    assert demand.history.count() == before + 1
    latest = demand.history.latest()
    assert (latest.history_type, latest.history_change_reason) == ("~", "One save")
    assert latest.history_user == curator
    assert latest.summary == "Saved once"
    assert list(latest.secondary_topics.values_list("topic_id", flat=True)) == [topic.pk]


def test_an_import_runs_each_receiver_once_per_record_and_records_one_revision(tmp_path):
    fixture = Path(__file__).parent.parent / "fixtures" / "04_demands.json"
    [record] = [r for r in json.loads(fixture.read_text()) if r["fields"].get("code") == "RU-I-4"]
    record["fields"]["summary"] = "Imported once"
    (tmp_path / "one.json").write_text(json.dumps([record]))
    demand = Demand.objects.get(code="RU-I-4")
    before = demand.history.count()
    with saves_seen(Demand) as seen:
        call_command("import_fixtures", str(tmp_path / "one.json"), verbosity=0)
    assert seen == [demand.pk]
    assert demand.history.count() == before + 1
    latest = demand.history.latest()
    assert (latest.history_type, latest.history_change_reason) == ("~", "Imported from one.json")
    assert latest.history_user is None  # the change log names it "import"
    assert latest.summary == "Imported once"
