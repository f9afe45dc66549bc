"""Every comparison and list view downloads as CSV or JSON: exactly its rows, stable columns."""

import codecs
import csv
import io
import json
import re

import pytest
from django.urls import reverse

from negotiations.dataversion import bump_data_version
from negotiations.exports import DEMAND_COLUMNS, QUOTE_COLUMNS, SOURCE_COLUMNS
from negotiations.models import Demand, Source
from tests.pages import shown_codes

pytestmark = pytest.mark.django_db


def csv_rows(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(codecs.BOM_UTF8)  # so that Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"topic": "neutrality"},
        {"party": "ukraine", "kind": "principle"},
        {"q": "Orthodox"},
        {"relation": "no-counterpart"},
    ],
)
def test_comparison_export_holds_exactly_the_rows_shown(client, params):
    page = client.get("/", params).content.decode()
    rows = csv_rows(client.get("/", {**params, "format": "csv"}))
    assert [row["code"] for row in rows] == shown_codes(page)
    data = json.loads(client.get("/", {**params, "format": "json"}).content)
    assert [row["code"] for row in data] == shown_codes(page)


def test_csv_has_stable_columns_citations_and_source_urls(client):
    response = client.get("/", {"topic": "nuclear", "format": "csv"})
    rows = csv_rows(response)
    assert list(rows[0]) == DEMAND_COLUMNS
    row = next(r for r in rows if r["code"] == "RU-I-4")
    assert "https://tass.com/politics/1967385" in row["source_urls"]
    assert "TASS: “confirmation of Ukraine’s status" in row["citations"]
    assert row["url"] == "http://testserver/demands/RU-I-4/"
    assert (
        'filename="istanbul-talks-comparison-topic-nuclear.csv"' in response["Content-Disposition"]
    )


def test_json_nests_citations(client):
    data = json.loads(client.get("/", {"topic": "nuclear", "format": "json"}).content)
    demand = next(d for d in data if d["code"] == "RU-I-4")
    assert {c["publisher"] for c in demand["citations"]} >= {"TASS", "The Moscow Times"}
    assert all("quote" in c and "url" in c for c in demand["citations"])


def test_search_export_matches_the_results(client):
    page = client.get(reverse("search"), {"q": "ceasefire"}).content.decode()
    rows = csv_rows(client.get(reverse("search"), {"q": "ceasefire", "format": "csv"}))
    assert [row["code"] for row in rows] == shown_codes(page)


@pytest.mark.parametrize(
    "url",
    ["/topics/humanitarian/", "/proposals/ru-memorandum/", "/parties/ukraine/"],
)
def test_detail_list_exports_match_the_page(client, url):
    page = client.get(url).content.decode()
    rows = csv_rows(client.get(url, {"format": "csv"}))
    shown = shown_codes(page) or re.findall(r'<a href="/demands/([^/]+)/">', page)
    assert sorted(row["code"] for row in rows) == sorted(shown)


def test_source_list_export(client):
    rows = csv_rows(client.get(reverse("sources"), {"kind": "agency", "format": "csv"}))
    assert list(rows[0]) == SOURCE_COLUMNS
    assert {row["slug"] for row in rows} == set(
        Source.objects.filter(kind="agency").values_list("slug", flat=True)
    )
    reuters = next(row for row in rows if row["slug"].startswith("hk-business-wire"))
    assert reuters["credit"] == "Reuters, via HK Business Wire"
    assert reuters["url"] == "" and reuters["read_on_copy"] == "yes"
    assert (
        reuters["archived_url"]
        == "https://hkbusinesswire.com/russia-sets-out-strict-terms-at-peace-talks"
    )
    tass = next(row for row in rows if row["slug"] == "tass-1967385")
    assert tass["state_media"] == "yes" and tass["credit"] == "TASS"


def test_no_export_gives_a_copys_address_as_the_publishers(client):
    """A page read on a copy: the CSV cell and the JSON say "copy", never the publisher's URL."""
    rows = csv_rows(client.get("/", {"topic": "ceasefire", "format": "csv"}))
    copies = set(Source.objects.exclude(archived_url="").values_list("archived_url", flat=True))
    for row in rows:
        assert not copies & set(row["source_urls"].split(" | ")), row["code"]
    cell = " ".join(row["citations"] for row in rows)
    assert "Institute for the Study of War, via BCFA USA: “" in cell
    assert "<copy: https://bcfausa.org/" in cell
    data = json.loads(client.get("/", {"topic": "ceasefire", "format": "json"}).content)
    isw = next(c for d in data for c in d["citations"] if c["source"].startswith("isw-russian"))
    assert isw["url"] == "" and isw["archived_url"].startswith("https://bcfausa.org/")
    assert isw["credit"] == "Institute for the Study of War, via BCFA USA"
    assert any(isw["archived_url"] in d["copy_urls"] for d in data)


@pytest.mark.parametrize("kind", ["provision", "relation", "disagreement"])
def test_a_source_page_downloads_every_quote_taken_from_it(
    client, django_assert_max_num_queries, kind
):
    field = {"provision": "demand", "relation": "relation", "disagreement": "version"}[kind]
    source = Source.objects.filter(**{f"citations__{field}__isnull": False}).first()
    page = client.get(source.get_absolute_url()).content.decode()
    with django_assert_max_num_queries(3):  # the data version, the source, its quotes
        rows = csv_rows(client.get(source.get_absolute_url(), {"format": "csv"}))
    assert list(rows[0]) == QUOTE_COLUMNS
    assert len(rows) == source.citations.count() == page.count('<li id="citation-')
    quoted = [row for row in rows if row["quoted_for"] == kind]
    assert quoted and all(row["source"] == source.slug and row["quote"] for row in quoted)
    for citation in source.citations.all():
        assert any(row["quote"] == citation.quote for row in rows)
    assert "format=csv" in page and "format=json" in page
    data = json.loads(client.get(source.get_absolute_url(), {"format": "json"}).content)
    assert [row["quote"] for row in data] == [row["quote"] for row in rows]


def test_non_ascii_text_survives_as_utf8(client):
    rows = csv_rows(client.get(reverse("sources"), {"format": "csv"}))
    assert any("Повний" in row["title"] for row in rows)  # a Ukrainian headline
    text = client.get("/", {"format": "csv"}).content.decode("utf-8")
    assert "припинення вогню" in text  # a Ukrainian quote


def test_unknown_format_is_a_400(client):
    assert client.get("/", {"format": "xml"}).status_code == 400
    assert client.get(reverse("sources"), {"format": "pdf"}).status_code == 400
    assert client.get(Source.objects.first().get_absolute_url(), {"format": "x"}).status_code == 400


@pytest.mark.parametrize(
    ("url", "bad"),
    [
        ("/", {"topic": "nope"}),
        ("/search/", {"q": "x" * 1000}),
        ("/sources/", {"kind": "nope"}),
        ("/compare/", {"a": "ru-memorandum", "b": "nope"}),
        ("/topics/ceasefire/", {"party": "nope"}),
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_download_with_bad_filters_is_a_plain_400_saying_why(client, url, bad, fmt):
    response = client.get(url, {**bad, "format": fmt})
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.strip() and b"<" not in response.content


def test_whole_dataset_download_reloads_as_fixtures(client, tmp_path):
    from django.core.management import call_command

    response = client.get(reverse("dataset"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    records = json.loads(response.content)
    assert {r["model"] for r in records} >= {"negotiations.demand", "negotiations.citation"}
    path = tmp_path / "dataset.json"
    path.write_bytes(response.content)
    call_command("import_fixtures", str(path))  # loads cleanly; nothing changes


def test_about_page_states_version_method_licence_and_citation(client):
    html = client.get(reverse("about")).content.decode()
    for words in (
        "Version",
        "Method",
        "Licence",
        "Creative Commons Attribution 4.0",
        "How to cite",
    ):
        assert words in html
    assert reverse("dataset") in html


def test_exported_numbers_keep_their_notes_as_the_page_shows_them(client):
    data = json.loads(client.get("/", {"topic": "ceasefire", "format": "json"}).content)
    demand = next(d for d in data if d["code"] == "UA-T-1")
    assert demand["parameters"] == ["ceasefire: at least 30 days (one source reports 90 days)"]
    assert demand["status_note"].startswith("At least 30 days in the delegation head")


def test_csv_flags_quotes_not_re_checked(client):
    rows = csv_rows(client.get("/", {"topic": "ceasefire", "format": "csv"}))
    row = next(r for r in rows if r["code"] == "UA-T-1")
    assert "Kyiv Independent: “One of the key points" in row["citations"]
    assert "(quote not re-verified)" in row["citations"]
    assert row["citations"].count("(quote not re-verified)") == 1


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_stay_text(client):
    formula = '=HYPERLINK("https://example.com/","click")'
    Demand.objects.filter(code="RU-I-4").update(summary=formula, paraphrase="-1+2")
    row = next(
        r
        for r in csv_rows(client.get("/", {"topic": "nuclear", "format": "csv"}))
        if r["code"] == "RU-I-4"
    )
    assert row["summary"] == "'" + formula
    assert row["paraphrase"] == "'-1+2"
    # A list cell starts with its first item: a citation's publisher, a number's name.
    Source.objects.filter(citations__demand__code="RU-I-4").update(publisher="@SUM(A1)")
    bump_data_version()
    row = next(
        r
        for r in csv_rows(client.get("/", {"topic": "nuclear", "format": "csv"}))
        if r["code"] == "RU-I-4"
    )
    assert row["citations"].startswith("'@SUM(A1): “")
    # The JSON is data, not a spreadsheet: it keeps the text as curated.
    data = json.loads(client.get("/", {"topic": "nuclear", "format": "json"}).content)
    assert next(d for d in data if d["code"] == "RU-I-4")["summary"] == formula


def compare_page(html):
    """Per topic section of the compare page: its slug, its coverage label and the demand codes
    linked, in page order."""
    sections = html.split('<section class="compare-topic"')[1:]
    return [
        (
            re.search(r'<a href="/topics/([^/]+)/">', section).group(1),
            re.search(r'<span class="coverage coverage--(\w+)">', section).group(1),
            re.findall(r'<a href="/demands/([^/]+)/">', section),
        )
        for section in sections
    ]


def compare_export(rows):
    """The same, from the export's rows: a pair left unchanged is shown by its B provision."""
    coverage = {"both": "both", "only-a": "first", "only-b": "second"}
    sections = []
    for row in rows:
        if not sections or sections[-1][0] != row["topic"]:
            sections.append((row["topic"], coverage[row["coverage"]], []))
        shown = {
            "in-a": ["code_a"],
            "only-in-a": ["code_a"],
            "in-b": ["code_b"],
            "only-in-b": ["code_b"],
            "reworded": ["code_a", "code_b"],
            "unchanged": ["code_b"],
        }[row["status"]]
        sections[-1][2].extend(row[key] for key in shown)
    return sections


@pytest.mark.parametrize(
    "pair",
    [
        {"a": "ru-memorandum", "b": "ua-framework"},
        {"a": "ru-position-2025-05-28", "b": "ru-memorandum"},
        {"a": "ua-framework", "b": "ru-memorandum"},
    ],
)
def test_compare_export_holds_exactly_what_the_page_shows(client, pair):
    from negotiations.exports import COMPARE_COLUMNS

    url = reverse("compare")
    html = client.get(url, pair).content.decode()
    assert '<a href="?a={a}&amp;b={b}&amp;format=csv" download>CSV</a>'.format(**pair) in html
    response = client.get(url, {**pair, "format": "csv"})
    rows = csv_rows(response)
    assert list(rows[0]) == COMPARE_COLUMNS
    assert compare_export(rows) == compare_page(html) != []
    name = f"istanbul-talks-compare-a-{pair['a']}-b-{pair['b']}.csv"
    assert f'filename="{name}"' in response["Content-Disposition"]
    data = json.loads(client.get(url, {**pair, "format": "json"}).content)
    assert [{k: str(v) if v is not None else "" for k, v in row.items()} for row in data] == rows
    # A percentage only where a pair was matched by its wording.
    assert all(row["wording_shared_percent"] is None for row in data)


@pytest.fixture
def redraft():
    """A synthetic copy of the memorandum: each provision reworded by its "[Synthetic]" prefix,
    one left word for word as it was."""
    from django.core.management import call_command

    call_command("generate_synthetic", scale=1)
    Demand.objects.filter(code="SYN1-RU-I-4").update(
        summary=Demand.objects.get(code="RU-I-4").summary
    )
    return {"a": "ru-memorandum", "b": "synthetic-1-ru-memorandum"}


def test_compare_export_of_a_redraft_matches_the_page(client, redraft):
    html = client.get(reverse("compare"), redraft).content.decode()
    rows = csv_rows(client.get(reverse("compare"), {**redraft, "format": "csv"}))
    assert compare_export(rows) == compare_page(html)
    assert {row["status"] for row in rows} == {"reworded", "unchanged"}


def test_compare_export_carries_each_pairs_wording_and_links(client, redraft):
    pair = redraft
    html = client.get(reverse("compare"), pair).content.decode()
    data = json.loads(client.get(reverse("compare"), {**pair, "format": "json"}).content)
    reworded = [row for row in data if row["status"] == "reworded"]
    assert reworded, "these two drafts have reworded pairs"
    for row in reworded:
        assert (
            f'<a href="/demands/{row["code_a"]}/">{row["code_a"]}</a> → '
            f'<a href="/demands/{row["code_b"]}/">{row["code_b"]}</a>, '
            f"{row['wording_shared_percent']}% of the wording shared"
        ) in html
    for row in data:
        assert row["proposal_a"] in ("", pair["a"])
        assert row["proposal_b"] in ("", pair["b"])
        if row["code_a"]:
            assert row["url_a"] == f"http://testserver/demands/{row['code_a']}/"
        if row["status"] == "unchanged":
            assert row["wording_shared_percent"] == 100 and row["code_a"] and row["code_b"]
    assert [row["code_a"] for row in data if row["status"] == "unchanged"] == ["RU-I-4"]


def test_compare_export_of_nothing_chosen_is_empty_and_bad_input_is_a_400(client):
    url = reverse("compare")
    assert client.get(url, {"format": "json"}).json() == []
    pair = {"a": "ru-memorandum", "b": "ua-framework"}
    assert client.get(url, {**pair, "format": "xlsx"}).status_code == 400
    assert client.get(url, {"a": "ru-memorandum", "b": "nope", "format": "csv"}).status_code == 400
    assert client.get(url, {"a": "ru-memorandum", "b": "ru-memorandum"}).status_code == 400
