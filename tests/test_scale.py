"""Synthetic data multiplies the site for scale tests without touching the curated fixtures."""

import gzip
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from negotiations import views
from negotiations.curated import FIXTURE_FILES
from negotiations.models import Demand, Proposal, Topic

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def synthetic():
    real = Demand.objects.count()
    call_command("generate_synthetic", scale=3)
    return real


def test_synthetic_data_is_marked_and_counted(synthetic):
    assert Demand.objects.count() == 4 * synthetic
    fake = Demand.objects.filter(code__startswith="SYN")
    assert fake.count() == 3 * synthetic
    assert all(d.summary.startswith("[Synthetic]") for d in fake)
    assert all(
        p.title.startswith("[Synthetic")
        for p in Proposal.objects.filter(slug__startswith="synthetic-")
    )
    assert fake.first().history.first().history_change_reason == "Synthetic data for scale tests"


def test_synthetic_data_is_never_exported(synthetic, tmp_path):
    call_command("export_fixtures", dir=str(tmp_path))
    for name, _ in FIXTURE_FILES:
        assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes(), name


def test_comparison_stays_bounded_with_more_data(synthetic, client, django_assert_num_queries):
    with django_assert_num_queries(9):
        response = client.get("/")
    html = response.content.decode()
    assert "See all" in html  # busy cells are capped, with a link to the rest
    # A cell shows up to CELL_LIMIT (16, so that the whole of Russia's ceasefire option fits):
    # at a hundred times the data every cell is full.
    assert len(gzip.compress(response.content)) < 48_000


def test_a_capped_cell_counts_everything_it_holds(synthetic, client):
    ceasefire = Demand.objects.on_topic(Topic.objects.get(slug="ceasefire"))
    russian = ceasefire.filter(section__proposal__party__slug="russia").count()
    html = client.get("/", {"topic": "ceasefire"}).content.decode()
    limit = views.CELL_LIMIT
    assert russian > limit
    assert f"See all {russian} from Russia</a> ({russian - limit} more on the topic page)" in html
    assert html.count('class="demand-summary"') <= 3 * limit  # three parties, a full cell each


def test_a_capped_cell_under_a_search_promises_no_count_the_topic_page_cannot_keep(
    synthetic, client
):
    # The topic page lists every provision, not only those matching the search.
    html = client.get("/", {"q": "ceasefire"}).content.decode()
    assert "See all" not in html
    assert re.search(
        r'<a href="/topics/ceasefire/\?party=russia#party-russia">See every provision from '
        r"Russia on this topic</a> \(\d+ more match(es)? this filter\)",
        html,
    )


def test_scale_must_be_sensible():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("generate_synthetic", scale=0)


def test_topic_page_stays_bounded_with_a_hundred_times_the_data(client, django_assert_num_queries):
    # The same queries at 1× and 100×: the page loads ids for the whole topic, demands for one page.
    with django_assert_num_queries(14):
        first = client.get("/topics/ceasefire/")
    assert 'rel="next"' not in first.content.decode()
    call_command("generate_synthetic", scale=100)
    with django_assert_num_queries(14):
        response = client.get("/topics/ceasefire/")
    html = response.content.decode()
    assert html.count('class="demand-summary"') == 50
    assert 'rel="next"' in html
    assert len(gzip.compress(response.content)) < 15_000
    with django_assert_num_queries(14):
        last = client.get("/topics/ceasefire/", {"party": "ukraine", "page": 2})
    assert last.status_code == 200
