"""Links between provisions of the two sides (our analysis): curated with history, and one
meaning of "no counterpart" on the comparison, the compare page, the exports and the API."""

import csv
import io
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from negotiations.models import JOINT_KINDS, Demand, Option, ProvisionLink, Relation
from tests.conftest import admin_form_data
from tests.pages import shown_codes
from tests.test_history import WHY, delete_in_admin, restore_in_admin

pytestmark = pytest.mark.django_db

# Political order: Russia asks for martial law to end and for elections; no Ukrainian text
# answers any of it.
POLITICAL_ORDER = {"RU-II-O2-8", "RU-II-O2-9", "RU-III-6"}


def codes_in(html):
    return set(re.findall(r'href="/demands/([\w-]+)/"', html))


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def link(a, b, **fields):
    demand, counterpart = Demand.objects.get(code=a), Demand.objects.get(code=b)
    defaults = {"kind": Relation.Kind.CONFLICT, "rationale": "Test."}
    return ProvisionLink(demand=demand, counterpart=counterpart, **(defaults | fields))


def test_no_counterpart_means_the_same_on_every_page_export_and_api(client):
    # The comparison's relation filter finds exactly these in the political order row.
    found = client.get("/", {"relation": "no-counterpart", "topic": "political-order"})
    html = found.content.decode()
    assert found.status_code == 200
    assert set(shown_codes(html)) == POLITICAL_ORDER
    assert "no counterpart for" in html
    # Its downloads say so on every row.
    rows = csv_rows(client.get("/", {"topic": "political-order", "format": "csv"}))
    assert {row["code"] for row in rows} == POLITICAL_ORDER
    assert {row["counterpart_status"] for row in rows} == {"no-counterpart"}
    assert all(row["counterparts"] == "" for row in rows)
    data = json.loads(client.get("/", {"topic": "political-order", "format": "json"}).content)
    assert {(row["code"], row["counterpart_status"]) for row in data} == {
        (code, "no-counterpart") for code in POLITICAL_ORDER
    }
    # /compare/ calls the topic "only in A" and each of its provisions "No counterpart".
    compare = client.get("/compare/", {"a": "ru-memorandum", "b": "ua-framework"})
    section = re.search(
        r'<section class="compare-topic" aria-labelledby="topic-political-order">.*?</section>',
        compare.content.decode(),
        re.S,
    ).group()
    assert "only in A" in section
    assert section.count("No counterpart") == len(POLITICAL_ORDER)
    exported = csv_rows(
        client.get("/compare/", {"a": "ru-memorandum", "b": "ua-framework", "format": "csv"})
    )
    assert {
        row["counterpart_status_a"] for row in exported if row["topic"] == "political-order"
    } == {"no-counterpart"}
    # The API and each provision's page.
    for code in POLITICAL_ORDER:
        api = client.get(f"/api/demands/{code}").json()
        assert (api["counterpart_status"], api["counterparts"]) == ("no-counterpart", [])
        page = client.get(reverse("demand", args=[code])).content.decode()
        assert "no provision of the other side answers this one" in page


def test_a_linked_provision_shows_its_counterpart_how_and_why_everywhere(client):
    pair = ProvisionLink.objects.get(demand__code="RU-I-1a", counterpart__code="UA-P-12")
    # Read from either end.
    for code, other in (("RU-I-1a", "UA-P-12"), ("UA-P-12", "RU-I-1a")):
        api = client.get(f"/api/demands/{code}").json()
        assert api["counterpart_status"] == "linked"
        entry = next(c for c in api["counterparts"] if c["code"] == other)
        assert (entry["relation"], entry["rationale"]) == ("conflict", pair.rationale)
        page = client.get(reverse("demand", args=[code])).content.decode()
        assert f"/demands/{other}/" in page and pair.rationale in page
        assert "Our analysis" in page
    rows = csv_rows(client.get("/", {"topic": "territory", "format": "csv"}))
    row = next(row for row in rows if row["code"] == "RU-I-1a")
    assert row["counterpart_status"] == "linked"
    assert f"UA-P-12 (conflict): {pair.rationale}" in row["counterparts"]


def test_the_relation_filter_finds_provisions_by_their_links(client):
    overlap = client.get("/", {"relation": "partial-overlap"}).content.decode()
    linked = set(
        ProvisionLink.objects.filter(kind="partial-overlap").values_list("demand__code", flat=True)
    )
    assert linked <= set(shown_codes(overlap))
    assert "RU-I-1a" not in shown_codes(overlap)  # in conflict only
    nothing = client.get("/", {"relation": "no-counterpart"}).content.decode()
    assert "RU-I-1a" not in shown_codes(nothing)
    joint = Demand.objects.filter(section__proposal__kind__in=JOINT_KINDS)
    assert not set(shown_codes(nothing)) & set(joint.values_list("code", flat=True))  # no side's


def test_an_agreed_outcome_is_joint_not_without_counterpart(client):
    api = client.get("/api/demands/AG-1").json()
    assert (api["counterpart_status"], api["counterparts"]) == ("joint", [])


@pytest.mark.parametrize(
    ("a", "b", "constraint"),
    [
        ("RU-I-4", "RU-I-4", "provision_link_not_self"),
        ("UA-P-12", "RU-I-1a", "provision_link_unique_pair"),  # the same pair the other way
    ],
)
def test_the_database_refuses_a_self_link_or_a_pair_twice(a, b, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        link(a, b).save()


def test_a_link_joins_two_parties_and_says_how_they_relate():
    with pytest.raises(ValidationError, match="another party"):
        link("RU-I-4", "RU-I-2a").full_clean()
    with pytest.raises(ValidationError, match="kind"):
        link("RU-I-4", "UA-P-5", kind=Relation.Kind.NO_COUNTERPART).full_clean()
    link("RU-I-4", "UA-P-5").full_clean()


def test_every_curated_link_joins_two_parties_and_gives_a_reason():
    for pair in ProvisionLink.objects.select_related(
        "demand__section__proposal", "counterpart__section__proposal"
    ):
        assert pair.demand.section.proposal.party_id != pair.counterpart.section.proposal.party_id
        assert pair.rationale.strip() and len(pair.rationale) <= 300


def test_a_curator_adds_a_link_in_the_admin_with_its_reason_in_the_history(curator_client):
    url = reverse("admin:negotiations_provisionlink_add")
    page = curator_client.get(url)
    assert page.status_code == 200
    nuclear, ukraine = Demand.objects.get(code="RU-I-4"), Demand.objects.get(code="UA-P-5")
    data = admin_form_data(
        page,
        demand=str(nuclear.pk),
        counterpart=str(ukraine.pk),
        kind="partial-overlap",
        rationale="A test rationale.",
        change_reason="Paired on review",
    )
    assert curator_client.post(url, data).status_code == 302
    added = ProvisionLink.objects.get(demand=nuclear)
    assert added.history.get().history_change_reason == "Paired on review"
    assert client_sees_link(curator_client, "RU-I-4", "UA-P-5")
    # One of the same party is refused with a form error, not a 500.
    data.update(counterpart=str(Demand.objects.get(code="RU-I-2a").pk))
    refused = curator_client.post(url, data)
    assert refused.status_code == 200
    assert "another party" in refused.content.decode()


def client_sees_link(client, code, other):
    return f"/demands/{other}/" in client.get(reverse("demand", args=[code])).content.decode()


def test_deleting_a_provision_records_its_links_and_restoring_it_brings_them_back(
    curator_client,
):
    demand = Demand.objects.get(code="RU-I-2a")
    links = list(ProvisionLink.objects.touching([demand.pk]).values_list("pk", flat=True))
    assert len(links) == 2
    delete_in_admin(curator_client, demand)
    assert not ProvisionLink.objects.filter(pk__in=links).exists()
    gone = ProvisionLink.history.filter(id__in=links, history_type="-")
    assert {row.history_change_reason for row in gone} == {f"Deleted with demand RU-I-2a ({WHY})"}
    restore_in_admin(curator_client, Demand, demand.pk, from_row="deletion")
    assert set(ProvisionLink.objects.touching([demand.pk]).values_list("pk", flat=True)) == set(
        links
    )
    assert client_sees_link(curator_client, "UA-P-8", "RU-I-2a")


def test_a_link_whose_other_provision_is_gone_stays_deleted_on_restore(curator_client):
    first, second = Demand.objects.get(code="RU-I-2a"), Demand.objects.get(code="UA-P-9")
    delete_in_admin(curator_client, first)
    delete_in_admin(curator_client, second)
    restore_in_admin(curator_client, Demand, first.pk, from_row="deletion")
    assert ProvisionLink.objects.touching([first.pk]).count() == 1  # UA-P-8's, not UA-P-9's


# The grid's reasoning: each topic's in prose, each pair's with one control that is a GET
# parameter.


def test_each_topics_reasoning_is_on_the_grid_without_a_toggle(client):
    html = client.get("/").content.decode()
    for relation in Relation.objects.all():
        assert relation.rationale.replace("'", "&#x27;").replace('"', "&quot;") in html
    assert "<details>" not in html
    assert "Show the reasoning for every pair" in html


def test_the_reasoning_for_every_pair_is_a_permalink(client):
    pair = ProvisionLink.objects.get(demand__code="RU-I-2a", counterpart__code="UA-P-8")
    without = client.get("/", {"topic": "neutrality"}).content.decode()
    assert pair.rationale not in without
    assert 'href="?topic=neutrality&amp;reasoning=on"' in without
    shown = client.get("/", {"topic": "neutrality", "reasoning": "on"}).content.decode()
    assert pair.rationale in shown
    assert 'name="reasoning" checked' in shown or re.search(r'name="reasoning"[^>]*checked', shown)
    assert "Hide the reasoning for each pair" in shown
    # The reasoning is how the page reads, not a filter: the same provisions, the same title.
    assert shown_codes(shown) == shown_codes(without)
    assert "for this filter" in shown  # the topic filter, and nothing more
    htmx = client.get(
        "/", {"topic": "neutrality", "reasoning": "on"}, headers={"HX-Request": "true"}
    )
    assert pair.rationale in htmx.content.decode()
    assert "<html" not in htmx.content.decode()


# Whole alternatives.


def test_the_ceasefire_row_shows_every_point_of_option_2(client):
    html = client.get("/", {"topic": "ceasefire"}).content.decode()
    option = Option.objects.get(section__proposal__slug="ru-memorandum", label="Option 2")
    points = set(option.demands.values_list("code", flat=True))
    assert len(points) == 10
    assert points <= set(shown_codes(html))
    assert "points of Option 2" not in html  # all of it is there


def test_a_cell_with_part_of_an_option_says_how_much_and_links_to_all_of_it(client):
    html = client.get("/", {"topic": "armed-forces"}).content.decode()
    option = Option.objects.get(section__proposal__slug="ru-memorandum", label="Option 2")
    assert "1 of the 10 points of Option 2 is here" in html
    assert f'href="/proposals/ru-memorandum/#option-{option.pk}"' in html
    proposal = client.get("/proposals/ru-memorandum/").content.decode()
    assert f'id="option-{option.pk}"' in proposal


# The overview.


def test_the_overview_has_every_topic_with_each_side_and_how_they_relate(client):
    response = client.get(reverse("overview"))
    html = response.content.decode()
    assert response.status_code == 200
    rows = re.findall(r'<tr id="([\w-]+)">', html)
    assert len(rows) == 14
    for slug in rows:
        assert f'href="/topics/{slug}/"' in html  # one click to the whole topic
    assert "Russia asks" in html and "Ukraine asks" in html and "Agreed by both" in html
    political = re.search(r'<tr id="political-order">.*?</tr>', html, re.S).group()
    assert "3 provisions with no counterpart" in political
    assert "Ukraine asks" in political and "Nothing on this topic." in political
    assert "our analysis" in html
    assert 'href="/overview/"' in client.get("/").content.decode()


# The page cache's data version, the topics, their relations, the parties, the round's
# provisions, the links between provisions.
OVERVIEW_QUERIES = 6


def test_the_overview_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    with django_assert_num_queries(OVERVIEW_QUERIES):
        assert client.get(reverse("overview")).status_code == 200


def test_the_overview_query_count_does_not_grow_with_tenfold_data(
    client, tenfold_data, django_assert_num_queries
):
    with django_assert_num_queries(OVERVIEW_QUERIES):
        html = client.get(reverse("overview")).content.decode()
    territory = re.search(r'<tr id="territory">.*?</tr>', html, re.S).group()
    assert "10 on 2 June" in territory  # RU-I-1a and its nine copies


def test_a_provisions_change_log_lists_the_changes_to_its_links(client):
    pair = ProvisionLink.objects.get(demand__code="RU-I-2a", counterpart__code="UA-P-8")
    pair.rationale = "Permanent neutrality, against no obligation to be neutral."
    pair._change_reason = "Clearer"
    pair.save()
    for code in ("RU-I-2a", "UA-P-8"):
        html = client.get(reverse("changes"), {"demand": code}).content.decode()
        assert "Changed provision link" in html and "Permanent neutrality" in html
    assert (
        "Permanent neutrality"
        not in client.get(reverse("changes"), {"demand": "RU-I-4"}).content.decode()
    )
