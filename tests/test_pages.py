"""Detail pages: each has a permalink, shows its key content and answers 404 for unknown keys."""

import datetime
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils.html import escape

from negotiations.dataversion import bump_data_version
from negotiations.models import DataVersion, Demand, Party, Proposal, Source, Topic

pytestmark = pytest.mark.django_db


def test_demand_page_shows_paraphrase_citations_and_cite_this(client):
    demand = Demand.objects.get(code="RU-I-11")
    response = client.get(demand.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert demand.paraphrase in html
    for citation in demand.citations.select_related("source"):
        assert citation.quote.replace('"', "&quot;") in html or citation.quote in html
        assert citation.source.publisher in html
        if citation.source.url:
            assert f'href="{citation.source.url}" rel="noopener noreferrer"' in html
    assert "Cite this" in html
    assert "http://testserver/demands/RU-I-11/" in html


def test_cite_this_names_the_datas_version_not_the_day_it_was_read(client):
    bump_data_version()
    DataVersion.objects.update(changed_at=datetime.datetime(2025, 6, 3, 12, tzinfo=datetime.UTC))
    html = client.get(reverse("demand", args=["RU-I-11"])).content.decode()
    assert "positions side by side, version of 3 June 2025." in html
    assert "retrieved" not in html  # a cached page would keep a stale day


def test_demand_page_shows_opposing_demands_and_relation(client):
    html = client.get(reverse("demand", args=["RU-I-2a"])).content.decode()
    assert "Opposing positions" in html
    assert "Conflict" in html and "Our analysis" in html
    assert "No obligation to be neutral" in html


def test_demand_page_shows_source_disagreements(client):
    html = client.get(reverse("demand", args=["AG-6"])).content.decode()
    assert "Where sources disagree" in html
    assert "331" in html and "339" in html


def test_demand_page_marks_unverified_quotes_and_missing_urls(client):
    html = client.get(reverse("demand", args=["UA-T-2"])).content.decode()
    assert "quote not re-verified" in html
    html = client.get(reverse("demand", args=["RU-I-4"])).content.decode()
    assert "Canonical URL not found" in html  # The Moscow Times seed has no known address
    assert 'href="https://world-news.vip/?p=5823" rel="noopener noreferrer"' in html


def test_last_verified_owns_up_to_quotes_not_re_checked(client):
    html = client.get(reverse("demand", args=["UA-T-1"])).content.decode()
    assert (
        "quotes checked against their sources, except 1 that could not be re-checked"
        " against a copy of the page (marked below)"
    ) in html
    html = client.get(reverse("demand", args=["RU-I-4"])).content.decode()
    assert "quotes checked against their sources</dd>" in html


def test_proposal_page_keeps_the_documents_structure(client):
    html = client.get(reverse("proposal", args=["ru-memorandum"])).content.decode()
    assert "Basic parameters of the final settlement" in html
    assert "Option 1: Ceasefire from the start of a withdrawal from the territory Russia" in html
    # Section III still requires the withdrawal when the package is chosen, and the page says so.
    assert "choosing the package does not avoid the withdrawal" in html
    assert '<span class="or">or</span> Option 2' in html
    assert '<ol class="steps">' in html
    assert html.index("Work starts on the text of a peace treaty") < html.index(
        "Only then is the treaty ratified"
    )
    # Treaty drafting and the truce are one step (1a, 1b), numbered as one.
    steps = html[html.index('<ol class="steps">') :]
    assert steps.count('<li value="1">') == 2 and '<li value="8">' in steps


def test_ukraines_framework_page_shows_its_five_parts(client):
    html = client.get(reverse("proposal", args=["ua-framework"])).content.decode()
    assert "Kind</dt><dd>Framework</dd>" in html
    for heading in ["I. Key principles", "II. Next step", "III. Ceasefire", "IV. Confidence"]:
        assert heading in html
    assert "V. Leaders&#x27; meeting and final settlement" in html
    assert "Framework · II · 3" in html and "Framework · V · 2" in html
    assert "Memorandum ·" not in html


def test_topic_page_shows_both_sides_relation_and_disagreements(client):
    html = client.get(reverse("topic", args=["humanitarian"])).content.decode()
    assert '<a href="/">Compare</a> › <span>Humanitarian: prisoners, bodies,' in html
    assert "Partial overlap" in html
    assert "Exchange of all prisoners" in html
    assert "Mutual amnesty" in html
    assert "Where sources disagree" in html


def test_source_list_filters_by_kind_and_publisher(client):
    html = client.get(reverse("sources"), {"kind": "agency"}).content.decode()
    assert '<th scope="row">TASS</th>' in html
    assert '<th scope="row">Kyiv Independent</th>' not in html
    html = client.get(reverse("sources"), {"publisher": "Kyiv Independent"}).content.decode()
    assert '<th scope="row">Kyiv Independent</th>' in html
    assert '<th scope="row">Sputnik</th>' not in html
    assert client.get(reverse("sources"), {"kind": "nonsense"}).status_code == 400


def test_source_menus_offer_only_what_some_source_has_in_the_tables_order(client):
    form = client.get(reverse("sources")).context["form"]
    kinds = [value for value, _ in form.fields["kind"].choices[1:]]
    assert kinds == [kind for kind in Source.Kind.values if Source.objects.filter(kind=kind)]
    # An official page (Russia's readout of 4 June 2025) is a source: the menu offers the kind.
    assert "official" in kinds
    for source in Source.objects.filter(kind="official"):
        source.kind = Source.Kind.NEWSPAPER
        source.save()
    form = client.get(reverse("sources")).context["form"]
    assert "official" not in dict(form.fields["kind"].choices)  # nor does it promise one
    publishers = [value for value, _ in form.fields["publisher"].choices[1:]]
    table = list(dict.fromkeys(Source.objects.values_list("publisher", flat=True)))
    assert publishers == table
    assert publishers.index("Al Mayadeen English") < publishers.index("ASB Media")


def test_a_kind_no_source_has_yet_is_an_empty_list_not_an_error(client):
    for source in Source.objects.filter(kind="official"):
        source.kind = Source.Kind.NEWSPAPER
        source.save()
    response = client.get(reverse("sources"), {"kind": "official"})
    assert response.status_code == 200
    assert '<option value="official" selected>Official text</option>' in response.content.decode()
    assert "No source matches this filter" in response.content.decode()


def test_an_address_with_the_kinds_old_value_opens_the_same_list(client):
    response = client.get(reverse("sources"), {"kind": "independent", "publisher": "NSN"})
    assert response.status_code == 301
    assert response["Location"] == "/sources/?kind=newspaper&publisher=NSN"
    response = client.get(reverse("sources"), {"kind": "state-media"})
    assert response.status_code == 301
    assert response["Location"] == "/sources/?kind=agency"


def test_a_title_in_another_language_says_which(client):
    nsn = Source.objects.get(slug="nsn-medinskii-rf-i-ukraina-obmenyautsya-molodymi-soldatami")
    title = f'<span lang="ru">{nsn.title}</span>'
    assert title in client.get(nsn.get_absolute_url()).content.decode()
    assert f'lang="ru">{nsn.title}</a>' in client.get(reverse("sources")).content.decode()
    demand = client.get(reverse("demand", args=["AG-2"])).content.decode()
    assert f'<span lang="ru">“{nsn.title}”</span>' in demand
    # Our own description of a headline not captured is English, whatever the source's language.
    konkors = Source.objects.get(slug="konkors-13508")
    assert konkors.language == "uk"
    html = client.get(konkors.get_absolute_url()).content.decode()
    assert f"<span>{konkors.title}</span>" in html


def test_source_page_lists_every_demand_that_cites_it(client):
    source = Source.objects.get(slug="tass-1967401")
    html = client.get(source.get_absolute_url()).content.decode()
    assert source.reliability_note in html
    for demand in Demand.objects.filter(citations__source=source).distinct():
        assert demand.get_absolute_url() in html


def test_party_page_lists_its_proposals(client):
    html = client.get(reverse("party", args=["ukraine"])).content.decode()
    assert "Framework for negotiations between Ukraine and Russia" in html
    assert "Ukraine&#x27;s proposals at the table, 2 June" in html


def test_rounds_timeline_is_in_date_order(client):
    html = client.get(reverse("rounds")).content.decode()
    assert html.index("16 May 2025") < html.index("2 June 2025") < html.index("23 July 2025")


@pytest.mark.parametrize(
    "url",
    ["/demands/XX-1/", "/proposals/nope/", "/topics/nope/", "/sources/nope/", "/parties/nope/"],
)
def test_unknown_keys_are_404(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("model", [Demand, Proposal, Topic, Source, Party])
def test_admin_view_on_site_opens_the_public_page(admin_client, model):
    obj = model.objects.first()
    content_type = ContentType.objects.get_for_model(model)
    response = admin_client.get(reverse("admin:view_on_site", args=[content_type.pk, obj.pk]))
    # The redirect goes through the contenttypes shortcut to get_absolute_url().
    assert response.status_code == 302
    assert response.url.endswith(obj.get_absolute_url())


DETAIL_QUERIES = [
    ("topic", ["humanitarian"], 14),
    ("proposal", ["ru-memorandum"], 10),
    ("demand", ["AG-6"], 14),
]


def assert_shows(response, name, key):
    """The page is the record's own: its heading names it."""
    assert response.status_code == 200
    model = {"topic": Topic, "proposal": Proposal, "demand": Demand}[name]
    obj = model.objects.get(**{"code" if model is Demand else "slug": key})
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S).group(1)
    assert escape(obj.summary if model is Demand else str(obj)) in heading


@pytest.mark.parametrize(("name", "args", "queries"), DETAIL_QUERIES)
def test_detail_pages_run_a_fixed_number_of_queries(
    client, django_assert_num_queries, name, args, queries
):
    with django_assert_num_queries(queries):
        response = client.get(reverse(name, args=args))
    assert_shows(response, name, args[0])


@pytest.mark.parametrize(("name", "args", "queries"), DETAIL_QUERIES)
def test_detail_query_counts_do_not_grow_with_tenfold_data(
    client, tenfold_data, django_assert_num_queries, name, args, queries
):
    with django_assert_num_queries(queries):
        response = client.get(reverse(name, args=args))
    assert_shows(response, name, args[0])


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/?topic=ceasefire&q=sabotage",
        "/?proposal=ru-position-2025-05-28",
        "/topics/ceasefire/",
        "/demands/AG-6/",
        "/proposals/ru-memorandum/",
        "/sources/",
        "/sources/konkors-13508/",
        "/parties/russia/",
        "/rounds/",
        "/changes/",
        "/search/?q=ceasefire",
        "/compare/?a=ru-position-2025-05-28&b=ru-memorandum",
        "/about/",
    ],
)
def test_no_template_syntax_leaks_into_a_page(client, url):
    # A {# comment #} spanning lines is not a comment to Django: it is printed as it is.
    html = client.get(url).content.decode()
    for token in ("{#", "#}", "{%", "%}", "{{", "}}"):
        assert token not in html, token


def test_rounds_page_shows_each_rounds_proposals_and_what_came_of_them(client):
    html = client.get(reverse("rounds")).content.decode()
    first, second, third = (html.index(f'id="round-{n}"') for n in (1, 2, 3))
    assert first < second < third
    for title, after in [
        ("Ukraine's proposals at the table, 16 May", first),
        ("Russia's reported demands at the table, 16 May", first),
        ("Agreed outcomes of 16 May", first),
        ("What came of the first round", first),
        ("What came of the second round", second),
        ("Putin's conditions of 14 June 2024", second),
        ("Ukraine's reaction to Russia's memorandum, June", second),
        ("Ukraine's proposals at the table, 23 July", third),
        ("Russia's proposals at the table, 23 July", third),
        ("Agreed outcomes of 23 July", third),
    ]:
        assert html.index(escape(title)) > after, title
    assert html.index(escape("What came of the first round")) < second


def test_what_came_of_a_round_shows_when_it_happened(client):
    html = client.get(reverse("demand", args=["R1-IM-1"])).content.decode()
    assert '<time datetime="2025-05-23">23–25 May 2025</time>' in html
    assert "Carried out" in html
    proposal = client.get(reverse("proposal", args=["after-2025-06-02"])).content.decode()
    assert "11–16 June 2025" in proposal
    assert "6,057" in proposal and "6,060" in proposal


def test_putins_2024_conditions_page_says_when_and_why_they_are_filed_there(client):
    html = client.get(reverse("proposal", args=["ru-conditions-2024-06-14"])).content.decode()
    assert "14 June 2024" in html
    assert "based on these principles" in html
    assert "Embassy of Russia in Malta" in html
