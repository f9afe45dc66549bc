"""Search: which provisions and quotes a reader's words find, best first, on either database.

A provision is found when the whole query matches one of three texts: its own words (code,
summary, paraphrase), its topic's name with the topic's aliases, or one of its quotes. A
source's name or our description of a page never finds a provision, since those describe the
source, not what the provision says; the search page lists such sources apart.

The query is read as PostgreSQL's web search reads it (words, "phrases", `or`, -excluded), then
capped at MAX_TERMS distinct terms, and each term widened to its variant spellings (ALIASES) and
number formats (1000 and 1,000). Both databases get the same terms, so they find the same
provisions; they rank them by the same rule (own words, then quotes, then topic) with their own
measure of how well the words match.

Cost: the terms are matched against each text in one pass. Quotes and topics are matched in
subqueries that do not depend on the provision (each runs once per search), and each term is
one more test on a row already read, never one more join. With at most MAX_TERMS terms, a
query of 40 words costs what one of 10 words does. We chose this over a denormalised search
column or SQLite's FTS5 because it needs no table kept in step with every edit of a quote or a
topic, and at this data's size (under a thousand quotes) a scan of the quotes takes about a
millisecond; PostgreSQL's indexed search vectors serve the own words and quotes there.
"""

import operator
import re
from functools import reduce
from typing import NamedTuple

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connections, models
from django.db.models import Case, F, FloatField, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Lower

from negotiations.models import MARK_END, MARK_START, Citation, Source, Topic

# At most this many distinct terms of a query count; the rest are ignored. A reader's query
# rarely has more than five; the cap is what bounds the cost of any query.
MAX_TERMS = 10

# Spellings of one thing: a query term equal to one of a group finds every spelling in the
# group. Lower case; a group may hold a phrase ("cease fire"). To add a spelling, add it to its
# group (or add a group), then a query of it to EXPECTED_RESULTS in tests/test_search.py.
ALIASES = (
    ("ceasefire", "cease-fire", "cease fire"),
    ("kyiv", "kiev"),
    ("luhansk", "lugansk"),
    ("zaporizhzhia", "zaporozhye", "zaporizhia", "zaporozhie"),
    ("donbas", "donbass"),
    ("kharkiv", "kharkov"),
    ("odesa", "odessa"),
    ("mykolaiv", "nikolaev"),
    ("denazification", "denazify", "de-nazification"),
    ("demilitarisation", "demilitarization"),
    ("mobilisation", "mobilization"),
    ("demobilisation", "demobilization"),
)
SPELLINGS = {spelling: group for group in ALIASES for spelling in group}

# Words a topic is also known by, searched with its name (by topic slug). A provision found
# only through its topic ranks below those whose own words or quotes match.
TOPIC_ALIASES = {
    "territory": "Crimea Donbas Donetsk Luhansk Zaporizhzhia Kherson annexation borders",
    "neutrality": "non-aligned bloc membership",
    "armed-forces": "army demilitarisation",
    "nuclear": "WMD",
    "humanitarian": "POW hostages deportation",
    "political-order": "vote legitimacy",
    "identity": "denazification Nazism nationalism church",
    "reparations": "compensation",
    "process": "negotiations talks",
}

# The search page lists at most this many sources whose publisher or title match, apart from
# the provisions.
SOURCES_SHOWN = 20

# How much a match weighs in the rank, by where it is. PostgreSQL adds its own measure of the
# own words' and quote's match (ts_rank, with the summary above the paraphrase); SQLite counts
# each term once per text it is found in.
SUMMARY_WEIGHT, PARAPHRASE_WEIGHT, QUOTE_WEIGHT, TOPIC_WEIGHT = 3.0, 2.0, 1.0, 0.5
PG_QUOTE_FACTOR, PG_TOPIC_RANK = 0.5, 0.01

# How a headline marks its matches (see MARK_START).
MARKS = {"config": "english", "start_sel": MARK_START, "stop_sel": MARK_END}

# A quoted phrase (possibly excluded, possibly unterminated), or a run of non-spaces.
TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")
NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d{4,}")


class Term(NamedTuple):
    """One word or phrase of a query, with the spellings that find the same thing."""

    variants: tuple[str, ...]
    excluded: bool = False


def variants(text):
    """The spellings a term stands for: its alias group, or a number with and without commas."""
    if text in SPELLINGS:
        return SPELLINGS[text]
    if NUMBER.fullmatch(text):
        digits = text.replace(",", "")
        return tuple(dict.fromkeys((text, digits, f"{int(digits):,}")))
    return (text,)


def parse(text):
    """A query as alternatives (`or`) of terms that must all match: [[Term, …], …].

    Terms are lower case, without surrounding punctuation, distinct within an alternative, and
    at most MAX_TERMS in all. Punctuation alone is no term; a query of none finds nothing.
    """
    alternatives, terms, seen, count = [], [], set(), 0
    for match in TOKEN.finditer(text):
        minus, phrase, word = match.groups()
        if word is not None:
            if word.lower() == "or":
                if terms:
                    alternatives.append(terms)
                    terms, seen = [], set()
                continue
            minus, phrase = word[:1] == "-", word
        words = EDGE_PUNCTUATION.sub("", " ".join(phrase.lower().split()))
        key = (words, bool(minus))
        if not words or key in seen:
            continue
        if count == MAX_TERMS:
            break
        seen.add(key)
        count += 1
        terms.append(Term(variants(words), bool(minus)))
    if terms:
        alternatives.append(terms)
    return alternatives


def highlighted(text):
    """The spellings to mark in a result: every variant of every term not excluded."""
    return [v for terms in parse(text) for t in terms if not t.excluded for v in t.variants]


def words_match(alternatives, fields):
    """SQLite: a Q true where the fields, read together as one text, hold the query."""

    def anywhere(term):
        return any_of(Q(**{f"{field}__icontains": v}) for v in term.variants for field in fields)

    return any_of(
        all_of(~anywhere(term) if term.excluded else anywhere(term) for term in terms)
        for terms in alternatives
    )


def full_text_query(alternatives):
    """PostgreSQL: the query as one tsquery, each term a phrase or any of its spellings."""

    def spellings(term):
        return [SearchQuery(v, search_type="phrase", config="english") for v in term.variants]

    def condition(term):
        # Not one of the spellings: a combined tsquery cannot be negated as a whole.
        if term.excluded:
            return all_of(~spelling for spelling in spellings(term))
        return any_of(spellings(term))

    return any_of(all_of(condition(term) for term in terms) for terms in alternatives)


def any_of(conditions):
    return reduce(operator.or_, conditions)


def all_of(conditions):
    return reduce(operator.and_, conditions)


def topic_aliases():
    """Each topic's aliases (TOPIC_ALIASES) as an expression, so the database matches them."""
    cases = [When(slug=slug, then=Value(words)) for slug, words in TOPIC_ALIASES.items()]
    return Case(*cases, default=Value(""), output_field=models.TextField())


def is_postgresql(queryset):
    return connections[queryset.db].vendor == "postgresql"


def find_demands(demands, text):
    """See DemandQuerySet.search()."""
    alternatives = parse(text)
    if not alternatives:
        return demands.none()
    if is_postgresql(demands):
        return _full_text(demands, full_text_query(alternatives))
    return _words(demands, alternatives)


def _full_text(demands, query):
    quoted = Citation.objects.filter(demand__isnull=False, search_vector=query)
    topics = Topic.objects.annotate(
        document=SearchVector("name", topic_aliases(), config="english")
    ).filter(document=query)
    best_quote = (
        quoted.filter(demand=models.OuterRef("pk"))
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank")
        .values("rank")[:1]
    )
    return (
        demands.filter(
            Q(search_vector=query)
            | Q(pk__in=quoted.values("demand"))
            | Q(topic__in=topics.values("pk"))
        )
        .annotate(
            rank=SearchRank(F("search_vector"), query)
            + Coalesce(Subquery(best_quote, output_field=FloatField()), Value(0.0))
            * PG_QUOTE_FACTOR
            + Case(
                When(topic__in=topics.values("pk"), then=Value(PG_TOPIC_RANK)),
                default=Value(0.0),
                output_field=FloatField(),
            ),
            # Found by its own words, not only its quotes' or topic's (the headlines mark
            # excluded words too, so their marks cannot tell).
            own_match=models.ExpressionWrapper(
                Q(search_vector=query), output_field=models.BooleanField()
            ),
            summary_marked=SearchHeadline("summary", query, highlight_all=True, **MARKS),
            paraphrase_marked=SearchHeadline(
                "paraphrase", query, max_words=35, min_words=15, **MARKS
            ),
        )
        .order_by("-rank", "code")
    )


def _words(demands, alternatives):
    own = words_match(alternatives, ["code", "summary", "paraphrase"])
    quoted = Citation.objects.filter(
        words_match(alternatives, ["quote"]), demand__isnull=False
    ).values("demand")
    topics = (
        Topic.objects.annotate(aliases=topic_aliases())
        .filter(words_match(alternatives, ["name", "aliases"]))
        .values("pk")
    )
    wanted = [term for terms in alternatives for term in terms if not term.excluded]
    # Each term found in the own words counts, where they hold the query (as on PostgreSQL).
    own_rank = Value(0.0)
    for term in wanted:
        own_rank += Case(
            When(words_match([[term]], ["code", "summary"]), then=Value(SUMMARY_WEIGHT)),
            When(words_match([[term]], ["paraphrase"]), then=Value(PARAPHRASE_WEIGHT)),
            default=Value(0.0),
        )
    rank = (
        Case(When(own, then=own_rank), default=Value(0.0))
        + Case(When(pk__in=quoted, then=Value(QUOTE_WEIGHT)), default=Value(0.0))
        + Case(When(topic__in=topics, then=Value(TOPIC_WEIGHT)), default=Value(0.0))
    )
    return (
        demands.filter(own | Q(pk__in=quoted) | Q(topic__in=topics))
        .annotate(
            rank=models.ExpressionWrapper(rank, output_field=FloatField()),
            # Found by its own words, as on PostgreSQL: else the card shows a matching quote.
            own_match=models.ExpressionWrapper(own, output_field=models.BooleanField()),
            summary_marked=F("summary"),
            paraphrase_marked=F("paraphrase"),
        )
        .order_by("-rank", "code")
    )


def find_citations(citations, text):
    """See CitationQuerySet.matching()."""
    alternatives = parse(text)
    if not alternatives:
        return citations.none()
    if is_postgresql(citations):
        query = full_text_query(alternatives)
        return citations.filter(search_vector=query).annotate(
            quote_marked=SearchHeadline("quote", query, highlight_all=True, **MARKS)
        )
    return citations.filter(words_match(alternatives, ["quote"])).annotate(quote_marked=F("quote"))


def find_sources(text):
    """The sources whose publisher or title hold the query, by publisher: the search page lists
    them apart, as sources, since their names find no provision."""
    alternatives = parse(text)
    if not alternatives:
        return Source.objects.none()
    sources = Source.objects.order_by(Lower("publisher"), "title")
    if is_postgresql(sources):
        document = SearchVector("publisher", "title", config="english")
        sources = sources.annotate(document=document).filter(document=full_text_query(alternatives))
    else:
        sources = sources.filter(words_match(alternatives, ["publisher", "title"]))
    return sources[:SOURCES_SHOWN]
