"""The read-only JSON API: lists, details, demand filters, errors, its schema and its docs."""

import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import settings
from openapi_spec_validator import validate

from negotiations.models import (
    Citation,
    Demand,
    Disagreement,
    Party,
    Proposal,
    Relation,
    Round,
    Source,
    Topic,
)
from negotiations.wsgi import application

pytestmark = pytest.mark.django_db

LISTS = {
    "parties": Party,
    "rounds": Round,
    "topics": Topic,
    "proposals": Proposal,
    "demands": Demand,
    "sources": Source,
    "citations": Citation,
    "relations": Relation,
    "disagreements": Disagreement,
}
# The field each list's items are addressed by in the detail endpoint.
KEYS = dict.fromkeys(LISTS, "slug") | {"demands": "code", "citations": "id"}


def codes(response):
    return [demand["code"] for demand in response.json()["items"]]


@pytest.mark.parametrize("name", LISTS)
def test_list_counts_everything_and_returns_the_first_page(client, name):
    total = LISTS[name].objects.count()
    response = client.get(f"/api/{name}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["count"] == total
    assert len(response.json()["items"]) == min(total, 50)


@pytest.mark.parametrize("name", LISTS)
def test_detail_by_natural_key_is_the_item_the_list_shows(client, name):
    item = client.get(f"/api/{name}", {"limit": 1, "offset": 2}).json()["items"][0]
    response = client.get(f"/api/{name}/{item[KEYS[name]]}")
    assert response.status_code == 200
    assert response.json() == item


def test_pages_follow_one_another_without_gaps_or_repeats(client):
    everything = list(Demand.objects.in_document_order().values_list("code", flat=True))
    pages = [
        codes(client.get("/api/demands", {"limit": 7, "offset": offset}))
        for offset in range(0, len(everything) + 7, 7)
    ]
    assert [code for page in pages for code in page] == everything


@pytest.mark.parametrize("limit", [0, 201, "many"])
def test_limit_outside_one_to_two_hundred_is_refused(client, limit):
    response = client.get("/api/sources", {"limit": limit})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_demand_shows_its_place_parameters_and_citations(client):
    demand = client.get("/api/demands/RU-I-1a").json()
    assert demand["url"] == "/demands/RU-I-1a/"
    assert demand["party"] == "russia"
    assert demand["proposal"] == "ru-memorandum"
    assert demand["section"] == "I"
    assert demand["option"] is None
    assert demand["place"] == Demand.objects.get(code="RU-I-1a").place
    assert demand["parameters"][0] == {
        "name": "regions to be recognised as Russian",
        "bound": "exact",
        "value": 5,
        "value_max": None,
        "unit": "regions",
        "note": 'Crimea, the Donetsk and Luhansk "People\'s Republics", Zaporizhzhia and Kherson',
    }
    stored = Citation.objects.filter(demand__code="RU-I-1a").select_related("source")
    assert [(c["id"], c["source"], c["quote"]) for c in demand["citations"]] == [
        (c.pk, c.source.slug, c.quote) for c in stored
    ]
    assert {"source_url", "publisher", "translation", "quote_verified"} <= demand["citations"][
        0
    ].keys()


def test_demand_in_an_option_names_it(client):
    demand = client.get("/api/demands/RU-II-O2-3").json()
    assert (demand["section"], demand["option"]) == ("II", "Option 2")


def test_topic_filter_matches_primary_and_secondary_topics(client):
    response = client.get("/api/demands", {"topic": "withdrawal", "limit": 200})
    expected = Demand.objects.on_topic(Topic.objects.get(slug="withdrawal"))
    assert sorted(codes(response)) == sorted(expected.values_list("code", flat=True))
    assert {"RU-II-O1", "UA-P-13"} <= set(codes(response))  # secondary topic: withdrawal
    assert response.json()["count"] == expected.count()


@pytest.mark.parametrize(
    "field, value, stored",
    [
        ("party", "ukraine", {"section__proposal__party__slug": "ukraine"}),
        ("proposal", "ru-memorandum", {"section__proposal__slug": "ru-memorandum"}),
        ("kind", "humanitarian", {"kind": "humanitarian"}),
    ],
)
def test_demand_filters_return_exactly_the_matching_demands(client, field, value, stored):
    response = client.get("/api/demands", {field: value, "limit": 200})
    assert all(demand[field] == value for demand in response.json()["items"])
    assert sorted(codes(response)) == sorted(
        Demand.objects.filter(**stored).values_list("code", flat=True)
    )


def test_free_text_search_finds_the_demand(client):
    assert "RU-I-11" in codes(client.get("/api/demands", {"q": "Orthodox"}))


def test_filters_combine(client):
    response = client.get("/api/demands", {"q": "Orthodox", "party": "ukraine"})
    assert "RU-I-11" not in codes(response)
    response = client.get("/api/demands", {"q": "Orthodox", "party": "russia", "topic": "identity"})
    assert "RU-I-11" in codes(response)


@pytest.mark.parametrize("field", ["topic", "party", "proposal"])
def test_unknown_slug_in_a_filter_is_a_json_404(client, field):
    response = client.get("/api/demands", {field: "no-such-thing"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    "query",
    [{"kind": "wish"}, {"topic": "not a slug"}, {"party": "russia/ukraine"}, {"q": "a\x00b"}],
)
def test_malformed_filter_is_a_json_422(client, query):
    response = client.get("/api/demands", query)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "path", [f"/api/{name}/no-such-thing" for name in LISTS if name != "citations"]
)
def test_unknown_key_is_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_unknown_citation_is_a_json_404_and_a_non_number_a_422(client):
    assert client.get("/api/citations/999999").json() == {"detail": "Not Found"}
    assert client.get("/api/citations/first").status_code == 422


@pytest.mark.parametrize("name", LISTS)
def test_writes_are_not_allowed(client, name):
    assert client.post(f"/api/{name}", {}, content_type="application/json").status_code == 405
    key = client.get(f"/api/{name}", {"limit": 1}).json()["items"][0][KEYS[name]]
    assert client.delete(f"/api/{name}/{key}").status_code == 405
    assert client.put(f"/api/{name}/{key}", {}, content_type="application/json").status_code == 405


def test_relation_says_it_is_our_analysis(client):
    relation = client.get("/api/relations/t01-territory").json()
    assert relation["analysis"] is True
    assert relation["topic"] == "territory"
    assert relation["demands"] == ["RU-I-1a", "UA-P-12", "UA-P-13", "UA-P-14"]


def test_disagreement_keeps_every_version_with_its_citations(client):
    disagreement = client.get("/api/disagreements/d1-ukraine-ceasefire-length").json()
    stored = Disagreement.objects.get(slug="d1-ukraine-ceasefire-length")
    assert disagreement["code"] == "D1"
    assert [v["claim"] for v in disagreement["versions"]] == [
        v.claim for v in stored.versions.all()
    ]
    assert all(version["citations"] for version in disagreement["versions"])


def test_citation_names_what_it_backs(client):
    citation = Citation.objects.filter(version__isnull=False).select_related("version").first()
    answer = client.get(f"/api/citations/{citation.pk}").json()
    assert answer["demand"] is None
    assert answer["disagreement"] == citation.version.disagreement.slug
    assert answer["version"] == citation.version.order


def test_openapi_schema_is_a_valid_openapi_3_document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Istanbul talks 2025 API"
    for name in LISTS:
        assert f"/api/{name}" in spec["paths"]
    assert all(set(operations) == {"get"} for operations in spec["paths"].values())


def test_docs_page_loads_every_asset_from_this_site(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assets = re.findall(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"', page)
    assert len(assets) == 4
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        assert client.get(asset).status_code == 200, asset
    assert not re.search(r"\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page)
    assert '"url": "/api/openapi.json"' in page
    assert '"validatorUrl": null' in page  # no schema sent to swagger.io for a badge


def test_docs_serve_only_the_swagger_files(client):
    assert client.get("/api/docs/assets/swagger-ui-init.js").status_code == 200
    assert client.get("/api/docs/assets/redoc.standalone.js").status_code == 404
    assert client.get("/api/docs/assets/..%2F__init__.py").status_code == 404


# A count, the page, then one query each for secondary topics, parameters, citations and links to
# the other side each way; each filter by slug looks its object up once more, to answer 404 when
# there is none.
@pytest.mark.parametrize(
    "query, expected",
    [({}, 7), ({"q": "Orthodox"}, 7), ({"topic": "ceasefire", "party": "russia"}, 9)],
)
def test_demand_list_takes_a_fixed_number_of_queries_whatever_the_page_size(
    client, django_assert_num_queries, tenfold_data, query, expected
):
    for limit in (1, 20, 200):
        with django_assert_num_queries(expected):
            response = client.get("/api/demands", {**query, "limit": limit})
        assert len(response.json()["items"]) == min(limit, response.json()["count"])


# Every operation in the schema, with generated parameters, through the WSGI application in
# this thread, so the requests see the test database and its curated data.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def in_test_transaction():
    """Keep Django from closing the test's connection around each request, as its test client does.

    The handler closes "old" connections when a request starts and ends; inside the test's
    transaction that closes the connection (on PostgreSQL) and so ends the transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Schemathesis asks for gzip, as requests does, but its WSGI transport does not decompress.
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.mark.usefixtures("in_test_transaction")
def test_requests_through_the_wsgi_application_see_the_curated_data():
    response = schema["/api/demands"]["GET"].Case(query={"q": "Orthodox"}).call(headers=IDENTITY)
    assert response.status_code == 200
    assert "RU-I-11" in [demand["code"] for demand in response.json()["items"]]


@pytest.mark.usefixtures("in_test_transaction")
@schema.parametrize()
@settings(max_examples=25, deadline=None)
def test_every_operation_answers_without_error_and_as_its_schema_says(case):
    case.call_and_validate(headers=IDENTITY)


def test_every_round_lists_its_proposals(client):
    rounds = {r["slug"]: r for r in client.get("/api/rounds").json()["items"]}
    assert list(rounds) == ["round-1", "round-2", "round-3"]
    assert {"ua-table-2025-05-16", "ru-table-2025-05-16", "agreed-2025-05-16"} <= set(
        rounds["round-1"]["proposals"]
    )
    assert {"ua-table-2025-07-23", "ru-table-2025-07-23", "agreed-2025-07-23"} <= set(
        rounds["round-3"]["proposals"]
    )


def test_demands_filter_by_round_and_carry_when_they_happened(client):
    response = client.get("/api/demands", {"round": "round-1", "limit": 200})
    assert response.status_code == 200
    found = {d["code"]: d for d in response.json()["items"]}
    assert set(found) == set(
        Demand.objects.filter(section__proposal__round__slug="round-1").values_list(
            "code", flat=True
        )
    )
    assert found["R1-IM-1"]["occurred_on"] == "2025-05-23"
    assert found["R1-IM-1"]["occurred_until"] == "2025-05-25"
    assert found["R1-UA-1"]["occurred_on"] is None
    assert client.get("/api/demands", {"round": "round-9"}).status_code == 404


def test_a_topic_carries_its_context_figures_with_their_quotes(client):
    topic = client.get("/api/topics/territory").json()
    figures = {f["slug"]: f for f in topic["context_figures"]}
    isw = figures["isw-occupied-share-four-oblasts-2025-06-02"]
    assert isw["figure"] == "79.8 %"
    assert isw["as_of"] == "2025-06-02"
    assert isw["publisher"] == "Institute for the Study of War"
    assert "79.8 percent" in isw["quote"]
    assert figures["reuters-luhansk-and-70-percent-2025-06"]["quote_verified"] is False
