"""Two proposals compared topic by topic, at a permalink."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from negotiations.diff import pair, word_diff
from negotiations.models import Demand, Proposal

pytestmark = pytest.mark.django_db


def test_same_party_drafts_show_added_dropped_and_reworded(client):
    response = client.get(reverse("compare"), {"a": "ru-position-2025-05-28", "b": "ru-memorandum"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Only in B" in html and "Only in A" in html
    assert "may still be in B in other words" in html
    assert "Recognise Crimea" in html  # only in the memorandum
    assert "Partial sanctions relief and unfrozen Russian assets" in html  # only before


def test_different_parties_show_both_columns_per_topic(client):
    html = client.get(
        reverse("compare"), {"a": "ru-memorandum", "b": "ua-framework"}
    ).content.decode()
    assert "A: Russia" in html and "B: Ukraine" in html
    assert "only in A" in html  # e.g. nuclear status
    assert "both address it" in html


def test_rewording_is_detected_and_shown_word_by_word():
    first = Demand.objects.get(code="RU-I-8")
    second = Demand.objects.get(code="RU-I-8")
    second.summary = "All sanctions between Russia and Ukraine lifted; no new sanctions"
    pairs, dropped, added = pair([first], [second])
    assert len(pairs) == 1 and not dropped and not added
    html = word_diff(first.summary, second.summary)
    assert "<del>" in html and "<ins>" in html


def test_unrelated_demands_are_not_paired():
    pairs, dropped, added = pair(
        [Demand.objects.get(code="RU-I-4")], [Demand.objects.get(code="UA-P-17")]
    )
    assert pairs == [] and len(dropped) == 1 and len(added) == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"a": "x", "b": "ru-memorandum"}, "Select a valid choice."),
        ({"a": "ru-memorandum", "b": "ru-memorandum"}, "Choose two different proposals."),
    ],
)
def test_bad_choices_are_a_form_error(client, params, message):
    response = client.get(reverse("compare"), params)
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize("params", [{"a": "ru-memorandum"}, {"a": "", "b": "ua-framework"}])
def test_one_proposal_alone_asks_for_the_other(client, params):
    response = client.get(reverse("compare"), params)
    assert response.status_code == 400
    assert "Choose a second proposal to compare with." in response.content.decode()


def test_compare_with_empty_choices_shows_the_picker(client):
    response = client.get(reverse("compare"), {"a": "", "b": ""})
    assert response.status_code == 200
    assert "Choose a proposal" in response.content.decode()


def test_compare_without_choices_shows_the_picker(client):
    html = client.get(reverse("compare")).content.decode()
    assert "Choose a proposal" in html


# The page cache's data version, the two proposals chosen (with their parties), each one's
# demands with their secondary topics, numbers, citations and links to the other side, each way
# (six queries a side), the topics, and the two menus of proposals.
COMPARE_QUERIES = 18
PAIRS = [
    {"a": "ru-memorandum", "b": "ua-framework"},
    {"a": "ru-position-2025-05-28", "b": "ru-memorandum"},
]


def assert_compared(response, chosen):
    """The page compares the two proposals chosen, not an error or the picker."""
    assert response.status_code == 200
    html = response.content.decode()
    for key in ("a", "b"):
        assert escape(Proposal.objects.get(slug=chosen[key]).title) in html


@pytest.mark.parametrize("chosen", PAIRS)
def test_compare_runs_a_fixed_number_of_queries(client, django_assert_num_queries, chosen):
    with django_assert_num_queries(COMPARE_QUERIES):
        response = client.get("/compare/", chosen)
    assert_compared(response, chosen)


@pytest.mark.parametrize("chosen", PAIRS)
def test_compare_query_count_does_not_grow_with_tenfold_data(
    client, tenfold_data, django_assert_num_queries, chosen
):
    with django_assert_num_queries(COMPARE_QUERIES):
        response = client.get("/compare/", chosen)
    assert_compared(response, chosen)
    assert "-x9" in response.content.decode()  # the copies are compared too
