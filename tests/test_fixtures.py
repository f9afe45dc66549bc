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
    Round,
    Section,
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
            section__proposal__slug__in=[
                "ua-framework",
                "ua-table-2025-06-02",
                "ua-statement-2025-06-02",
            ]
        ).select_related("section__proposal")
    )
    # Part I's seven principles as 17 provisions; Parts II-V from the full text (DN's reprint) and
    # summaries; five proposals at the table; one statement made to partners after the meeting.
    assert counts == {
        ("ua-framework", "I"): 17,
        ("ua-framework", "II"): 4,
        ("ua-framework", "III"): 2,
        ("ua-framework", "IV"): 1,
        ("ua-framework", "V"): 2,
        ("ua-table-2025-06-02", "Table"): 5,
        ("ua-statement-2025-06-02", "Statement"): 1,
    }


def test_ukraines_framework_is_in_its_own_five_parts():
    framework = Proposal.objects.get(slug="ua-framework")
    assert list(framework.sections.values_list("label", flat=True)) == ["I", "II", "III", "IV", "V"]
    codes = set(Demand.objects.filter(section__proposal=framework).values_list("code", flat=True))
    # The two provisions summaries of Reuters' roadmap had left out.
    assert {"UA-F-II-3", "UA-F-V-2"} <= codes


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
    assert Demand.objects.filter(section__proposal__slug="agreed-2025-06-02").count() == 7
    assert Demand.objects.filter(section__proposal__kind=Proposal.Kind.PRE_TALK_POSITION).exists()


def test_offers_and_statements_are_filed_as_what_they_are():
    placed = dict(Demand.objects.values_list("code", "section__proposal__slug"))
    # Russia's truce offer was never shown to be agreed; the sanctions call was made to partners.
    assert placed["AG-5"] == placed["R2-RU-1"] == "ru-table-2025-06-02"
    assert placed["UA-T-6"] == "ua-statement-2025-06-02"
    assert Proposal.objects.get(slug="ua-statement-2025-06-02").kind == Proposal.Kind.STATEMENT


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


def test_no_source_gives_a_copys_or_a_crawlers_address_as_the_publishers():
    for source in Source.objects.all():
        assert "/nobot/" not in source.url and ".staging." not in source.url, source.slug
        # Every address, the copy's too, is one the research recorded, never a guessed one.
        assert source.archived_url in DOSSIER, source.archived_url
    copies = {
        "hk-business-wire-russia-sets-out-strict-terms-at-peace-talks": (
            "Reuters, via HK Business Wire"
        ),
        "darakchi-200895": "Reuters, via Darakchi",
        "isw-russian-offensive-campaign-assessment-2025-06-02": (
            "Institute for the Study of War, via BCFA USA"
        ),
        "bss-279566": "AFP, via BSS",
        "shanghai-daily-2505164726": "Xinhua, via Shanghai Daily",
    }
    for slug, credit in copies.items():
        source = Source.objects.get(slug=slug)
        assert source.credit == credit
        assert source.url == "" and source.only_on_copy, slug  # the copy is kept as the copy


def test_the_memorandums_quotes_from_tass_carry_their_locators():
    tass = Citation.objects.filter(source__publisher="TASS", demand__code__startswith="RU-")
    assert tass.exists()
    assert not tass.filter(locator="").exists()


def test_every_source_url_is_http_or_https():
    for source in Source.objects.all():
        for url in (source.url, source.archived_url):
            assert url == "" or url.startswith(("http://", "https://")), url


def test_single_source_and_uncertain_items_keep_their_status():
    statuses = dict(Demand.objects.values_list("code", "status"))
    assert statuses["RU-III-8"] == Demand.Status.SINGLE_SOURCE
    assert statuses["RU-III-9"] == Demand.Status.SINGLE_SOURCE
    assert statuses["UA-T-2"] == Demand.Status.SINGLE_SOURCE
    # Every source of the medical commissions reports one man's words: Medinsky's.
    assert statuses["AG-7"] == Demand.Status.SINGLE_SOURCE
    assert Demand.objects.get(code="AG-7").summary.startswith("Russia's delegation head said")


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
        ("D6", ["6,000 for 6,000", "One-way", "6,057", "6,060 bodies handed to Ukraine and 78"]),
        ("D18", ["23 May", "28 May"]),
        ("D17", ["31 points", "in one sentence (TASS)", "on separate lines"]),
        ("D28", ["reviewed the list", "fewer than a fifth", "50 names"]),
        ("D29", ["Agreed in principle", "Unlikely"]),
    ],
)
def test_known_disagreements_record_each_account(code, claims):
    versions = " | ".join(
        Disagreement.objects.get(code=code).versions.values_list("claim", flat=True)
    )
    for claim in claims:
        assert claim in versions, (code, versions)


def our_own_words():
    """(what, text) for every text written in our own voice: not quotes, translations or titles
    of sources, which keep each side's words."""
    for proposal in Proposal.objects.all():
        yield proposal.slug, f"{proposal.title} {proposal.summary} {proposal.dates_note}"
    for section in Section.objects.select_related("proposal"):
        yield f"{section.proposal.slug} {section.label}", f"{section.title} {section.note}"
    for demand in Demand.objects.all():
        yield demand.code, f"{demand.summary} {demand.paraphrase} {demand.status_note}"
    for relation in Relation.objects.all():
        yield relation.slug, relation.rationale
    for disagreement in Disagreement.objects.prefetch_related("versions"):
        claims = " ".join(v.claim for v in disagreement.versions.all())
        yield disagreement.code, f"{disagreement.title} {disagreement.assessment} {claims}"
    for topic in Topic.objects.all():
        yield topic.slug, f"{topic.name} {topic.description}"
    for round_ in Round.objects.all():
        yield round_.slug, round_.summary


# One side's terms, which our own words may only quote, never use.
LOADED_TERMS = re.compile(
    r"deported and illegally displaced|hostages?|regime change|stalls|denazification|"
    r"abducted|occupiers|Kiev regime|dictator",
    re.IGNORECASE,
)
QUOTED = re.compile(r'"[^"]*"|“[^”]*”')


def test_no_summary_uses_a_loaded_term_in_our_own_voice():
    for what, text in our_own_words():
        found = LOADED_TERMS.findall(QUOTED.sub("", text))
        assert not found, (what, found)


def test_ukraines_framework_is_never_called_a_memorandum():
    framework = Proposal.objects.get(slug="ua-framework")
    assert framework.get_kind_display() == "Framework"
    for demand in Demand.objects.filter(section__proposal=framework).select_related(
        "section__proposal", "option"
    ):
        assert demand.place.startswith("Framework · "), demand.place
    memorandum = re.compile(r"(Ukrain\w*|Kyiv's) (peace )?memorand", re.IGNORECASE)
    for what, text in our_own_words():
        assert not memorandum.search(text), (what, memorandum.search(text).group())


def test_notes_on_disagreements_speak_to_readers():
    internal = re.compile(r"\b([Ww]e|[Oo]ur|us)\b|[Dd]ossier")
    for disagreement in Disagreement.objects.prefetch_related("versions"):
        texts = [disagreement.assessment, *(v.claim for v in disagreement.versions.all())]
        for text in texts:
            assert not internal.search(text), (disagreement.code, internal.search(text).group())


def test_a_topic_without_a_ukrainian_provision_has_no_counterpart():
    for relation in Relation.objects.prefetch_related("demands__section__proposal__party"):
        parties = {d.section.proposal.party.slug for d in relation.demands.all()}
        if "ukraine" not in parties:
            assert relation.kind == Relation.Kind.NO_COUNTERPART, relation.slug


# The pages that reproduce Russia's memorandum, each quote of which can be placed on the page.
MEMORANDUM_PAGES = ["tass-1967365", "tass-1967385", "tass-1967401", "tass-1967405", "tass-1967467"]


def test_every_quote_from_the_memorandums_reproductions_has_a_locator():
    quotes = Citation.objects.filter(
        source__slug__in=[
            *MEMORANDUM_PAGES,
            "sputnik-full-text-of-russian-memorandum-on-ukraine-published",
        ]
    )
    assert quotes.count() > 40
    assert not quotes.filter(locator="").exists(), list(quotes.filter(locator="").values("pk"))
