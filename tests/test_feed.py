"""The Atom feed of changes stays valid whatever a curator typed, and shows text as text."""

from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest
from django.urls import reverse

from negotiations.models import Citation, Demand, Topic
from tests.conftest import admin_form_data

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def entries(client):
    response = client.get(reverse("changes-feed"))
    assert response.status_code == 200
    feed = ElementTree.fromstring(response.content)  # fails on anything XML 1.0 cannot carry
    return [
        {child.tag.removeprefix(ATOM): child for child in entry}
        for entry in feed.iter(f"{ATOM}entry")
    ]


class Tags(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.tags = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


@pytest.mark.parametrize("character", ["\x0c", "\x02", "\x1b", "\x08"])
def test_a_control_character_already_stored_does_not_break_the_feed(client, character):
    # Stored as it was before curated text refused them (or by any way around the forms). NUL
    # is refused by PostgreSQL itself, and by the forms and the import on every database.
    demand = Demand.objects.get(code="RU-I-4")
    demand.summary = f"Summary{character} with a pasted control character"
    demand._change_reason = f"Typo{character} fixed"
    demand.save()
    [entry] = [e for e in entries(client) if "Typo" in e["summary"].text]
    assert "Reason: Typo fixed" in entry["summary"].text
    assert "Summary with a pasted control character" in entry["title"].text


def test_markup_in_curated_text_is_shown_as_text_in_a_feed_reader(client):
    topic = Topic.objects.get(slug="ceasefire")
    topic.name = '<img src=x onerror="alert(1)">'
    topic._change_reason = "<b>Renamed</b>"
    topic.save()
    [entry] = [e for e in entries(client) if "Renamed" in e["summary"].text]
    summary = entry["summary"]
    assert summary.get("type") == "html"
    # What a feed reader renders: the HTML in the summary, which must hold no element.
    assert Tags(summary.text).tags == []
    assert "&lt;img src=x" in summary.text and "&lt;b&gt;Renamed" in summary.text


def change_url(obj):
    return reverse(f"admin:negotiations_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"summary": "Typo\x0c fixed"},
            "summary",
            "Remove the invisible control character U+000C at character 5",
        ),
        (
            {"paraphrase": "One line\r\nand another\twith a tab, then \x02"},
            "paraphrase",
            "Remove the invisible control character U+0002 at character",
        ),
        (
            {"summary": "One line\nand another"},
            "summary",
            "Remove the line break or tab (U+000A) at character 9: this field holds one line.",
        ),
        (
            {"change_reason": "Typo\x0c fixed"},
            "change_reason",
            "Remove the invisible control character U+000C at character 5",
        ),
    ],
    ids=["summary", "paraphrase", "line-break-in-one-line", "reason"],
)
def test_a_control_character_in_curated_text_is_a_form_error_that_says_so(
    curator_client, changes, field, message
):
    demand = Demand.objects.get(code="RU-I-4")
    page = curator_client.get(change_url(demand))
    data = admin_form_data(page, **{"change_reason": "Typo fixed", **changes})
    response = curator_client.post(change_url(demand), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field])
    assert Demand.objects.get(pk=demand.pk).revision == demand.revision


def test_a_multi_line_text_keeps_its_line_breaks_and_tabs(curator_client):
    demand = Demand.objects.get(code="RU-I-4")
    page = curator_client.get(change_url(demand))
    paraphrase = "One line\r\nand another\twith a tab."
    data = admin_form_data(page, paraphrase=paraphrase, change_reason="Two lines")
    assert curator_client.post(change_url(demand), data).status_code == 302
    assert Demand.objects.get(pk=demand.pk).paraphrase == paraphrase


def test_an_inline_quote_with_a_control_character_is_refused_too(curator_client):
    citation = Citation.objects.filter(demand__isnull=False).first()
    page = curator_client.get(change_url(citation))
    data = admin_form_data(
        page, quote=citation.quote.replace(" ", " \x0b", 1), change_reason="Pasted"
    )
    response = curator_client.post(change_url(citation), data)
    assert response.status_code == 200
    assert "U+000B" in " ".join(response.context["adminform"].form.errors["quote"])
    assert Citation.objects.get(pk=citation.pk).quote == citation.quote
