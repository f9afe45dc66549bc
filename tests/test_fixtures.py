"""The curated data: complete, cited, verbatim, and loadable twice without change."""

import hashlib
import re
from collections import Counter
from pathlib import Path

import pytest
from django.core import serializers
from django.core.management import call_command
from django.db.models import Count

from negotiations.models import (
    Citation,
    ContextFigure,
    Demand,
    Disagreement,
    Proposal,
    Relation,
    Source,
    Topic,
)
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "corpus"
SEEDS = {path.name[:3]: path.read_text() for path in (CORPUS / "seeds").glob("*.txt")}
# Every research dossier: each records the text of the pages its quotes were taken from.
DOSSIER = "\n".join(path.read_text() for path in sorted(CORPUS.glob("*.md")))
# The seed articles as they were captured; their sources are stored under these slugs.
SEED_SLUGS = {
    "moscow-times-russias-demands-istanbul-memorandum": "000",
    "unidentified-no-cease-fire-unless-ukraine-pulls-troops-back": "001",
    "al-mayadeen-russia-to-present-peace-memorandum": "002",
    "isw-russian-offensive-campaign-assessment-2025-06-02": "003",
    "kyiv-independent-russia-passes-peace-memorandum": "004",
}


def collapse(text):
    return " ".join(text.split())


def database_snapshot():
    """A hash of every curated row, to tell whether anything changed."""
    digest = hashlib.sha256()
    for model in (Topic, Source, Proposal, Demand, Citation, Relation, Disagreement):
        rows = model.objects.order_by("pk")
        digest.update(serializers.serialize("json", rows).encode())
    return digest.hexdigest()


def test_loading_the_fixtures_again_changes_nothing():
    before = database_snapshot()
    call_command("loaddata", *FIXTURES, verbosity=0)
    assert database_snapshot() == before


def test_russian_memorandum_has_every_provision_in_its_sections():
    demands = Demand.objects.filter(section__proposal__slug="ru-memorandum")
    by_place = Counter(
        (d.section.label, d.option.label if d.option else None)
        for d in demands.select_related("section", "option")
    )
    # Dossier §2.6: 12 items in Section I stored as 15 entries; Option 1 and a 10-point package;
    # 9 steps. 32 provisions in all.
    assert by_place == {
        ("I", None): 15,
        ("II", "Option 1"): 1,
        ("II", "Option 2"): 10,
        ("III", None): 9,
    }
    section_one_items = {
        re.match(r"\d+", d.label).group() for d in demands if d.section.label == "I"
    }
    assert len(section_one_items) == 12


def test_ukrainian_framework_and_table_proposals_are_complete():
    counts = Counter(
        (d.section.proposal.slug, d.section.label)
        for d in Demand.objects.filter(
            section__proposal__slug__in=["ua-framework", "ua-table-2025-06-02"]
        ).select_related("section__proposal")
    )
    # Dossier §3.5: 17 principles, 5 roadmap steps, 6 proposals at the table.
    assert counts == {
        ("ua-framework", "I"): 17,
        ("ua-framework", "Roadmap"): 5,
        ("ua-table-2025-06-02", "Table"): 6,
    }


def test_each_round_has_each_sides_proposals_and_what_was_agreed():
    kinds = Counter(
        Proposal.objects.filter(sections__demands__isnull=False)
        .distinct()
        .values_list("round__number", "party__slug", "kind")
    )
    for number in (1, 3):
        assert kinds[number, "ukraine", Proposal.Kind.TABLE_PROPOSAL] == 1
        assert kinds[number, "russia", Proposal.Kind.TABLE_PROPOSAL] == 1
        assert kinds[number, "both", Proposal.Kind.AGREED_OUTCOME] == 1
    assert kinds[1, "both", Proposal.Kind.AFTERMATH] == 1
    assert kinds[2, "both", Proposal.Kind.AFTERMATH] == 1
    assert kinds[2, "ukraine", Proposal.Kind.REACTION] == 1


def test_what_was_carried_out_after_a_round_is_dated_after_it():
    carried_out = Demand.objects.filter(kind=Demand.Kind.CARRIED_OUT).select_related(
        "section__proposal__round"
    )
    assert carried_out.count() >= 5
    for demand in carried_out:
        assert demand.occurred_on > demand.section.proposal.round.date, demand.code
        assert demand.section.proposal.kind == Proposal.Kind.AFTERMATH, demand.code


def test_putins_2024_conditions_are_dated_before_the_talks():
    baseline = Proposal.objects.get(slug="ru-conditions-2024-06-14")
    assert baseline.kind == Proposal.Kind.PRE_TALK_POSITION
    assert str(baseline.date_published) == "2024-06-14"
    assert "14 June 2024" in baseline.dates_note
    assert set(baseline.sections.values_list("demands__code", flat=True)) == {
        "BL-1",
        "BL-2",
        "BL-3",
        "BL-4",
    }


def test_kyivs_word_ultimatum_is_attributed_not_ours():
    for demand in Demand.objects.filter(section__proposal__slug="ua-reaction-2025-06"):
        assert "Zelensky" in demand.summary, demand.code
        assert "“ultimatum”" in demand.summary or '"ultimatum"' in demand.summary, demand.code


def test_context_figures_are_dated_and_attached_to_their_topic():
    figures = dict(ContextFigure.objects.values_list("slug", "topic__slug"))
    assert figures["isw-occupied-share-four-oblasts-2025-06-02"] == "territory"
    assert figures["reuters-luhansk-and-70-percent-2025-06"] == "territory"
    assert figures["ukraine-verified-deported-children-2025-06-02"] == "humanitarian"
    for figure in ContextFigure.objects.all():
        assert figure.as_of or figure.as_of_note, figure.slug


def test_agreed_outcomes_and_pre_talk_position_are_stored():
    assert Demand.objects.filter(section__proposal__slug="agreed-2025-06-02").count() == 8
    assert Demand.objects.filter(section__proposal__kind=Proposal.Kind.PRE_TALK_POSITION).exists()


def test_every_demand_has_a_citation():
    assert not Demand.objects.annotate(n=Count("citations")).filter(n=0).exists()


def quoted():
    """Every quote held, a provision's, relation's or version's and a context figure's."""
    yield from Citation.objects.select_related("source")
    yield from ContextFigure.objects.select_related("source")


def test_every_quote_is_verbatim_in_its_source():
    """Seed quotes are checked against the seed text; web quotes against the research dossiers,
    which record each page's text as seen (and audited) during research."""
    for citation in quoted():
        quote = collapse(citation.quote)
        seed = SEED_SLUGS.get(citation.source.slug)
        if seed:
            assert quote in collapse(SEEDS[seed]), (citation.source.slug, quote)
        else:
            assert citation.quote in DOSSIER, (citation.source.slug, quote)
            assert citation.source.url in DOSSIER, citation.source.url


def test_quotes_are_short():
    for citation in quoted():
        assert len(citation.quote.split()) <= 45, citation.quote


def test_non_english_quotes_carry_a_translation():
    for citation in Citation.objects.filter(source__language__in=["ru", "uk"]):
        assert citation.translation, citation.quote


def test_seed_sources_say_what_is_unknown_instead_of_inventing_it():
    unidentified = Source.objects.get(
        slug="unidentified-no-cease-fire-unless-ukraine-pulls-troops-back"
    )
    assert unidentified.url == ""
    assert "not identified" in unidentified.url_note
    isw = Source.objects.get(slug="isw-russian-offensive-campaign-assessment-2025-06-02")
    assert isw.publisher == "Institute for the Study of War"
    assert isw.url == "" and isw.url_note


def test_every_source_url_is_http_or_https():
    for source in Source.objects.all():
        for url in (source.url, source.archived_url):
            assert url == "" or url.startswith(("http://", "https://")), url


def test_single_source_and_uncertain_items_keep_their_status():
    statuses = dict(Demand.objects.values_list("code", "status"))
    assert statuses["RU-III-8"] == Demand.Status.SINGLE_SOURCE
    assert statuses["RU-III-9"] == Demand.Status.SINGLE_SOURCE
    assert statuses["UA-T-2"] == Demand.Status.SINGLE_SOURCE
    assert statuses["AG-5"] == Demand.Status.UNCERTAIN


def test_unverified_quotes_stay_marked():
    unverified = [citation for citation in quoted() if not citation.quote_verified]
    assert unverified
    for citation in unverified:
        line = next(line for line in DOSSIER.splitlines() if citation.quote in line)
        assert "[quote not re-verified]" in line


def test_all_fourteen_topics_have_a_relation():
    assert Topic.objects.count() == 14
    assert set(Relation.objects.values_list("topic__code", flat=True)) == {
        f"T{n:02}" for n in range(1, 15)
    }


def test_source_disagreements_keep_every_version_with_its_citation():
    disagreements = Disagreement.objects.prefetch_related("versions__citations")
    assert disagreements.count() >= 20
    for disagreement in disagreements:
        assert disagreement.versions.count() >= 1, disagreement
        for version in disagreement.versions.all():
            assert version.citations.exists(), version


@pytest.mark.parametrize(
    ("code", "claims"),
    [
        ("D1", ["90", "30"]),
        ("D2", ["339", "331"]),
        ("D4", ["each side", "total"]),
        ("D6", ["6,000 for 6,000", "One-way"]),
        ("D18", ["23 May", "28 May"]),
        ("D28", ["reviewed the list", "fewer than a fifth"]),
    ],
)
def test_known_disagreements_record_each_account(code, claims):
    versions = " | ".join(
        Disagreement.objects.get(code=code).versions.values_list("claim", flat=True)
    )
    for claim in claims:
        assert claim in versions, (code, versions)
