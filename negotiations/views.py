import re
from collections import Counter, defaultdict
from itertools import groupby
from typing import NamedTuple

from django.contrib.syndication.views import Feed
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import DatabaseError, connection
from django.db.models import Count, F, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from negotiations import exports
from negotiations.cards import with_cards, with_details
from negotiations.changelog import TRACKED, change_keys, describe_changes, recent_changes
from negotiations.curated import FIXTURE_FILES, records, to_json
from negotiations.dataversion import data_version
from negotiations.diff import compare as compare_proposals
from negotiations.forms import (
    ChangesForm,
    CompareForm,
    ComparisonFilterForm,
    SearchForm,
    SourceFilterForm,
    TopicPageForm,
)
from negotiations.models import (
    JOINT_KINDS,
    Citation,
    ContextFigure,
    Demand,
    Disagreement,
    Party,
    Proposal,
    ProvisionLink,
    Relation,
    Round,
    Section,
    Source,
    Topic,
    Version,
)
from negotiations.pagecache import cached
from negotiations.search import find_sources


def _citations():
    return Prefetch("citations", Citation.objects.select_related("source"))


def _disagreements():
    """Disagreements with every version and its citations."""
    versions = Prefetch("versions", Version.objects.prefetch_related(_citations()))
    return Prefetch("disagreements", Disagreement.objects.prefetch_related(versions))


def _relations():
    return Prefetch("relations", Relation.objects.prefetch_related(_citations()))


def _with_hidden_matches(demands, text):
    """Give each found demand not found by its own words the first of its citations that
    matches (`matched`), in one query: else a reader cannot see why it was found."""
    hidden = {}
    for demand in demands:
        demand.matched = None
        if not demand.own_match:
            hidden[demand.pk] = demand
    if hidden:
        citations = Citation.objects.filter(demand__in=hidden).matching(text)
        for citation in citations.select_related("source").order_by("demand", "order", "pk"):
            if hidden[citation.demand_id].matched is None:
                hidden[citation.demand_id].matched = citation
    return demands


def _listed(demands, fmt):
    """A page shows each demand's card and citation markers; a download carries its quotes."""
    if fmt == "html":
        return with_details(list(demands.listing()))
    return list(demands.with_details())


def _blocks(demands):
    """Group a cell's demands so alternative options stay visibly alternatives.

    Demands outside alternatives come one by one; consecutive demands from one
    alternatives section become one block listing each option's demands in turn.
    """
    blocks = []
    for demand in demands:
        if demand.option is None:
            blocks.append({"demand": demand})
        elif blocks and blocks[-1].get("section") == demand.section:
            options = blocks[-1]["options"]
            if options[-1]["option"] == demand.option:
                options[-1]["demands"].append(demand)
            else:
                options.append({"option": demand.option, "demands": [demand]})
        else:
            blocks.append(
                {
                    "section": demand.section,
                    "options": [{"option": demand.option, "demands": [demand]}],
                }
            )
    return blocks


def _shown(blocks):
    """The demands of a cell in the order shown, alternatives included."""
    for block in blocks:
        if "demand" in block:
            yield block["demand"]
        else:
            for entry in block["options"]:
                yield from entry["demands"]


# A cell shows at most this many demands and links to the topic page for the rest, so the
# comparison stays light however much data there is. Enough for Russia's ceasefire terms: both
# options of its memorandum's section II, every point of them, and its other ceasefire steps.
CELL_LIMIT = 16


def _placements(demands):
    """{(topic id, party id): [demand id, …]} in document order: every cell a demand sits in,
    under its topic and each secondary topic. One query, and no demand is built for it."""
    cells = defaultdict(list)
    rows = demands.in_document_order().values_list(
        "pk", "topic", "section__proposal__party", "secondary_topics"
    )
    for pk, topic, party, secondary in rows:  # a row per secondary topic, each demand's together
        for cell in [(topic, party), (secondary, party)] if secondary else [(topic, party)]:
            if not cells[cell] or cells[cell][-1] != pk:
                cells[cell].append(pk)
    return cells


def _grid(topics, parties, cells, totals=None, limit=None):
    """Rows of (topic, relations, cells), a cell per party; `cells` maps (topic id, party id)
    to that cell's demands in document order, and `totals` to how many it has in all when
    `cells` holds only those shown."""
    rows = []
    for topic in topics:
        row = []
        for party in parties:
            shown = cells.get((topic.pk, party.pk), [])[:limit]
            total = totals.get((topic.pk, party.pk), 0) if totals else len(shown)
            blocks = _blocks(shown)
            if total > len(shown) and blocks and "section" in blocks[-1]:
                # The cap may have cut these alternatives: the rest are on the topic page.
                blocks[-1]["cut"] = True
            row.append(
                {"party": party, "blocks": blocks, "total": total, "hidden": total - len(shown)}
            )
        rows.append({"topic": topic, "relations": topic.relations.all(), "cells": row})
    return rows


class Pair(NamedTuple):
    """A link between two provisions as the grid shows it, the side first in column order first.
    Our analysis."""

    kind: str
    label: str
    rationale: str
    first: tuple  # (id, code, summary)
    second: tuple


def _pairs(demands=None):
    """Every link between provisions as a Pair, or those of these demands (ids), one query and
    no instance built: the grid shows those of the provisions in each row."""
    links = (
        ProvisionLink.objects.all() if demands is None else ProvisionLink.objects.touching(demands)
    )
    rows = links.order_by("pk").values_list(
        "kind",
        "rationale",
        "demand",
        "demand__code",
        "demand__summary",
        "demand__section__proposal__party__order",
        "counterpart",
        "counterpart__code",
        "counterpart__summary",
        "counterpart__section__proposal__party__order",
    )
    labels = dict(Relation.Kind.choices)
    pairs = []
    for kind, rationale, a, a_code, a_summary, a_order, b, b_code, b_summary, b_order in rows:
        ends = sorted([(a_order, a_code, a, a_summary), (b_order, b_code, b, b_summary)])
        first, second = ((pk, code, summary) for _, code, pk, summary in ends)
        pairs.append(Pair(kind, labels[kind], rationale, first, second))
    return sorted(pairs, key=lambda pair: (pair.first[1], pair.second[1]))


def _with_pairs(rows, pairs):
    """Give each row of the grid the links of the provisions it shows (`pairs`), how many of
    each kind (`tally`), and its provisions of a side that no link answers (`unanswered`)."""
    by_demand = defaultdict(list)
    for pair in pairs:
        by_demand[pair.first[0]].append(pair)
        by_demand[pair.second[0]].append(pair)
    labels = dict(Relation.Kind.choices)
    for row in rows:
        shown = [demand for cell in row["cells"] for demand in _shown(cell["blocks"])]
        row_pairs = list(dict.fromkeys(pair for demand in shown for pair in by_demand[demand.pk]))
        row["pairs"] = sorted(row_pairs, key=lambda pair: (pair.first[1], pair.second[1]))
        counts = Counter(pair.kind for pair in row["pairs"])
        row["tally"] = [(labels[kind], counts[kind]) for kind in labels if counts[kind]]
        row["unanswered"] = [
            demand
            for demand in dict.fromkeys(shown)
            if not by_demand[demand.pk] and demand.section.proposal.kind not in JOINT_KINDS
        ]
    return rows


@cached("format", form=ComparisonFilterForm, free_text="q")
@require_safe
@vary_on_headers("HX-Request")
def home(request):
    # Nine queries in all, whatever the data: the page cache's data version, topics and their
    # relations, proposals with their parties, the links between provisions, where every
    # matching demand sits, then only the demands shown (at most CELL_LIMIT a cell) with their
    # numbers and citation markers.
    topics = list(Topic.objects.prefetch_related("relations"))
    all_proposals = list(Proposal.objects.select_related("party", "round"))
    pairs = _pairs()
    form = ComparisonFilterForm(
        request.GET,
        topics=topics,
        proposals=all_proposals,
        link_kinds={pair.kind for pair in pairs},
    )
    fmt = exports.requested_format(request)
    if fmt is None:
        return exports.bad_format()
    status = 200
    if form.is_valid():
        proposals = form.filter_proposals(all_proposals)
        parties = sorted({p.party for p in proposals}, key=lambda party: party.order)
        demands = form.filter_demands(Demand.objects.filter(section__proposal__in=proposals))
        placements = _placements(demands)
        topics = form.filter_topics(topics)
        if form.searches:
            # Only rows with a match: an empty grid of fourteen topics would hide the answer.
            matched = {topic for topic, party in placements}
            topics = [topic for topic in topics if topic.pk in matched]
        # Counted over the rows shown (a relation filter hides whole topics), and over the
        # demands shown in them: a full cell shows CELL_LIMIT and links to the rest.
        shown_rows = {topic.pk for topic in topics}
        placed = [pks for (topic, _), pks in placements.items() if topic in shown_rows]
        demand_count = len({pk for pks in placed for pk in pks})
        listed = [pks[:CELL_LIMIT] for pks in placed]
        shown_pks = {pk for pks in listed for pk in pks}
        listing_count = sum(len(pks) for pks in listed)
        # A download carries each demand's quotes; the page shows only its citation markers.
        demands = demands.filter(pk__in=shown_pks)
        demands = demands.listing() if fmt == "html" else demands.with_details()
        by_pk = {demand.pk: demand for demand in demands}
        cells = {cell: [by_pk[pk] for pk in pks if pk in by_pk] for cell, pks in placements.items()}
        totals = {cell: len(pks) for cell, pks in placements.items()}
        rows = _grid(topics, parties, cells, totals, limit=CELL_LIMIT)
        shown = [
            (row["topic"], demand)
            for row in rows
            for cell in row["cells"]
            for demand in _shown(cell["blocks"])
        ]
        if fmt != "html":
            filters = [
                (k, v.slug if hasattr(v, "slug") else v)
                for k, v in form.cleaned_data.items()
                if k != "reasoning"
            ]
            exported = [exports.demand_row(request, demand, topic) for topic, demand in shown]
            return exports.respond(fmt, exported, exports.DEMAND_COLUMNS, "comparison", filters)
        if form.cleaned_data["q"]:  # cards with the words marked are this page's alone
            with_details([demand for _, demand in shown])
        else:
            with_cards(request, [demand for _, demand in shown], tag="p")
        _with_pairs(rows, pairs)
    elif fmt != "html":
        return exports.bad_filters(form)
    else:
        status = 400
        parties, rows, demand_count, listing_count, shown_pks = [], [], 0, 0, set()
    context = {
        "form": form,
        "parties": parties,
        "rows": rows,
        "demand_count": demand_count,
        "shown_count": len(shown_pks),
        # A provision with a secondary topic is listed in each of its rows.
        "listing_count": listing_count,
        "query": form.cleaned_data.get("q", "") if form.is_valid() else "",
        "reasoning": form.is_valid() and form.cleaned_data["reasoning"],
        "oob": False,  # the count is swapped out of band only in htmx responses
    }
    template = "negotiations/home.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#htmx-response"
    return render(request, template, context, status=status)


# The overview shows the documents of the 2 June round, each provision under its own topic.
OVERVIEW_ROUND = "round-2"
# What each side asks and what was agreed: not the positions stated before the talks, nor what
# was said or carried out after them.
OVERVIEW_KINDS = [
    Proposal.Kind.MEMORANDUM,
    Proposal.Kind.FRAMEWORK,
    Proposal.Kind.TABLE_PROPOSAL,
    Proposal.Kind.AGREED_OUTCOME,
]
# A line or two per party and topic: this many provisions, and how many more there are.
OVERVIEW_SHOWN = 2


@cached()
@require_safe
def overview(request):
    """The 14 topics on about two screens: what each party asks, what was agreed, how they relate.

    Six queries whatever the data: the page cache's data version, the topics, their relations,
    the parties, the round's provisions (ids and summaries only), the links between provisions.
    """
    topics = list(Topic.objects.prefetch_related("relations"))
    parties = list(Party.objects.all())
    rows = (
        Demand.objects.filter(section__proposal__round__slug=OVERVIEW_ROUND)
        .filter(section__proposal__kind__in=OVERVIEW_KINDS)
        .in_document_order()
        .values_list(
            "pk", "code", "summary", "topic", "section__proposal__party", "section__proposal__kind"
        )
    )
    by_cell = defaultdict(list)
    for pk, code, summary, topic, party, kind in rows:
        joint = kind in JOINT_KINDS
        by_cell[topic, party].append({"pk": pk, "code": code, "summary": summary, "joint": joint})
    by_demand = defaultdict(set)
    for pair in _pairs():
        by_demand[pair.first[0]].add(pair)
        by_demand[pair.second[0]].add(pair)
    labels = dict(Relation.Kind.choices)
    table = []
    for topic in topics:
        cells, pairs, unanswered = [], set(), 0
        for party in parties:
            demands = by_cell[topic.pk, party.pk]
            cells.append({"party": party, "shown": demands[:OVERVIEW_SHOWN], "total": len(demands)})
            for demand in demands:
                pairs |= by_demand[demand["pk"]]
                # An agreed outcome is no one side's position: nothing is to answer it.
                unanswered += not demand["joint"] and not by_demand[demand["pk"]]
        counts = Counter(pair.kind for pair in pairs)
        table.append(
            {
                "topic": topic,
                "cells": cells,
                "relations": topic.relations.all(),
                "tally": [(labels[kind], counts[kind]) for kind in labels if counts[kind]],
                "unanswered": unanswered,
            }
        )
    return render(request, "negotiations/overview.html", {"rows": table, "parties": parties})


@cached("format", form=SearchForm, free_text="q")
@require_safe
@vary_on_headers("HX-Request")
def search(request):
    form = SearchForm(request.GET)
    fmt = exports.requested_format(request)
    if fmt is None:
        return exports.bad_format()
    groups, count, status, sources = [], 0, 200, []
    if not form.is_valid():
        if fmt != "html":
            return exports.bad_filters(form)
        status = 400
    elif form.cleaned_data["q"]:
        demands = _listed(Demand.objects.search(form.cleaned_data["q"])[:200], fmt)
        if fmt == "html":
            _with_hidden_matches(demands, form.cleaned_data["q"])
        count = len(demands)
        # Grouped by topic, then party; best matches first within each group.
        demands.sort(key=lambda d: (d.topic.order, d.section.proposal.party.order))
        for topic, in_topic in groupby(demands, key=lambda d: d.topic):
            parties = [
                {"party": party, "demands": sorted(items, key=lambda d: -d.rank)}
                for party, items in groupby(in_topic, key=lambda d: d.section.proposal.party)
            ]
            groups.append({"topic": topic, "parties": parties})
        if fmt == "html":
            sources = list(find_sources(form.cleaned_data["q"]))
    if fmt != "html" and status == 200:
        shown = [
            exports.demand_row(request, demand)
            for group in groups
            for entry in group["parties"]
            for demand in entry["demands"]
        ]
        filters = [("q", form.cleaned_data["q"])]
        return exports.respond(fmt, shown, exports.DEMAND_COLUMNS, "search", filters)
    context = {
        "form": form,
        "groups": groups,
        "count": count,
        "sources": sources,
        "query": form.cleaned_data.get("q", "") if form.is_valid() else "",
        "oob": False,
    }
    template = "negotiations/search.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#htmx-response"
    return render(request, template, context, status=status)


@cached()
@require_safe
def demand_detail(request, code):
    demand = get_object_or_404(
        Demand.objects.with_details().prefetch_related(
            _disagreements(),
            Prefetch(
                "relations",
                Relation.objects.select_related("topic").prefetch_related(
                    _citations(),
                    Prefetch(
                        "demands",
                        Demand.objects.select_related(
                            "section__proposal__party", "option"
                        ).in_document_order(),
                    ),
                ),
            ),
        ),
        code=code,
    )
    party = demand.section.proposal.party_id
    relations = [
        {
            "relation": relation,
            "opposing": [d for d in relation.demands.all() if d.section.proposal.party_id != party],
        }
        for relation in demand.relations.all()
    ]
    context = {
        "demand": demand,
        "unverified": sum(not citation.quote_verified for citation in demand.citations.all()),
        "relations": relations,
        # The data's version, not today's date: the page is cached and revalidated until the
        # data changes, so a "retrieved" date would go stale, and the version says what was
        # cited (every earlier one is in the change log).
        "version": data_version()[1],
        "permalink": request.build_absolute_uri(demand.get_absolute_url()),
    }
    return render(request, "negotiations/demand.html", context)


@cached("format")
@require_safe
def proposal_detail(request, slug):
    fmt = exports.requested_format(request)
    if fmt is None:
        return exports.bad_format()
    in_order = Demand.objects.in_document_order()
    proposal = get_object_or_404(
        Proposal.objects.select_related("party", "round").prefetch_related(
            Prefetch(
                "sections",
                Section.objects.prefetch_related(
                    "options",
                    Prefetch(
                        "demands",
                        in_order.listing() if fmt == "html" else in_order.with_details(),
                    ),
                ),
            ),
            _disagreements(),
        ),
        slug=slug,
    )
    sections = []
    for section in proposal.sections.all():
        demands = section.demands.all()
        options = [
            {"option": option, "demands": [d for d in demands if d.option_id == option.pk]}
            for option in section.options.all()
        ]
        loose = [d for d in demands if d.option_id is None]
        sections.append({"section": section, "options": options, "demands": loose})
    if fmt != "html":
        shown = [
            exports.demand_row(request, demand)
            for entry in sections
            for demand in [d for o in entry["options"] for d in o["demands"]] + entry["demands"]
        ]
        return exports.respond(fmt, shown, exports.DEMAND_COLUMNS, proposal.slug)
    with_details(
        [demand for section in proposal.sections.all() for demand in section.demands.all()]
    )
    return render(
        request, "negotiations/proposal.html", {"proposal": proposal, "sections": sections}
    )


# A topic page lists this many provisions at most, so it stays light however much data there is.
TOPIC_PAGE_SIZE = 50


def _mark_cut_alternatives(cells, ordered, page):
    """Say where an "Either / or" block is cut by a page boundary, so it does not look complete:
    the provision just before or after the page is another option's, or the same option's, of
    the same party's alternatives section."""
    start, end = page.start_index() - 1, page.end_index()  # 0-based, end exclusive
    before = ordered[start - 1][1:] if start > 0 else None  # (party, section, option)
    after = ordered[end][1:] if end < len(ordered) else None
    for cell in cells:
        blocks = cell["blocks"]
        if not blocks:
            continue
        first, last = blocks[0], blocks[-1]
        for block, neighbour, flag in (
            (first, before, "continued_from"),
            (last, after, "continues"),
        ):
            if "section" in block and neighbour is not None:
                party, section, option = neighbour
                if party == cell["party"].pk and section == block["section"].pk and option:
                    block[flag] = True


def _topic_placements(topic, party, all_parties):
    """The parties shown and the (id, party id, section id, option id) of every provision of
    the topic in the order the page lists them: party after party, each in document order.
    Ids only, so the whole topic costs one light query however big it is."""
    demands = Demand.objects.on_topic(topic)
    if party:
        demands = demands.filter(section__proposal__party=party)
    rows = demands.in_document_order().values_list(
        "pk", "section__proposal__party", "section", "option"
    )
    by_party = defaultdict(list)
    for row in rows:
        by_party[row[1]].append(row)
    parties = [party] if party else [p for p in all_parties if p.pk in by_party]
    return parties, [row for p in parties for row in by_party[p.pk]]


def _page(form, items, per_page):
    """The page the form asks for, or None with the reason added to the form's errors."""
    paginator = Paginator(items, per_page)
    try:
        return paginator.page(form.cleaned_data["page"] or 1)
    except PageNotAnInteger:
        form.add_error("page", "The page must be a whole number, such as 2.")
    except EmptyPage:
        if int(form.cleaned_data["page"]) < 1:
            form.add_error("page", "Pages start at 1.")
        else:
            pages = paginator.num_pages
            form.add_error(
                "page", f"There is no such page: this list has {pages} page{pluralize(pages)}."
            )
    return None


@cached("format", form=TopicPageForm)
@require_safe
@vary_on_headers("HX-Request")
def topic_detail(request, slug):
    # Fourteen queries on every page, whatever the data: the page cache's data version, the
    # topic, its relations and their citations, its context figures with their sources, the
    # parties, where every provision of the topic sits (ids only), then only the page's demands
    # with their numbers, citation markers and links to the other side, and the topic's
    # disagreements with their versions and citations.
    fmt = exports.requested_format(request)
    if fmt is None:
        return exports.bad_format()
    figures = Prefetch("context_figures", ContextFigure.objects.select_related("source"))
    topic = get_object_or_404(Topic.objects.prefetch_related(_relations(), figures), slug=slug)
    all_parties = list(Party.objects.all())
    form = TopicPageForm(request.GET, parties=all_parties)
    # The whole topic's, on every page and whatever the party: there are only a few.
    disagreements = (
        Disagreement.objects.filter(demands__in=Demand.objects.on_topic(topic))
        .distinct()
        .prefetch_related(Prefetch("versions", Version.objects.prefetch_related(_citations())))
    )
    context = {"topic": topic, "form": form, "disagreements": disagreements, "page": None}
    template = "negotiations/topic.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#htmx-response"
    if form.is_valid():
        parties, ordered = _topic_placements(topic, form.cleaned_data["party"], all_parties)
        page = _page(form, ordered, TOPIC_PAGE_SIZE)
    if not form.is_valid():
        if fmt != "html":
            return exports.bad_filters(form)
        return render(request, template, context, status=400)
    pks = [row[0] for row in page.object_list]
    loaded = Demand.objects.filter(pk__in=pks)
    loaded = loaded.listing() if fmt == "html" else loaded.with_details()
    by_pk = {demand.pk: demand for demand in loaded}
    cells = defaultdict(list)
    for pk, party, _, _ in page.object_list:
        cells[topic.pk, party].append(by_pk[pk])
    row = _grid([topic], parties, cells)[0]
    _mark_cut_alternatives(row["cells"], ordered, page)
    if fmt != "html":
        shown = [
            exports.demand_row(request, demand, topic)
            for cell in row["cells"]
            for demand in _shown(cell["blocks"])
        ]
        filters = [("party", form.cleaned_data["party"] and form.cleaned_data["party"].slug)]
        if page.number > 1:
            filters.append(("page", page.number))
        return exports.respond(fmt, shown, exports.DEMAND_COLUMNS, f"topic-{topic.slug}", filters)
    with_cards(request, list(by_pk.values()), tag="h3")
    # The pairs of the provisions on this page: a page stays light however big the topic.
    pairs = _pairs(list(by_pk))
    context |= {
        "row": row,
        "parties": parties,
        "page": page,
        "party": form.cleaned_data["party"],
        "pairs": pairs,
    }
    return render(request, template, context)


# Source kinds' former values, each with the kind its sources mostly became.
FORMER_KINDS = {
    "independent": Source.Kind.NEWSPAPER,
    "other-media": Source.Kind.NEWSPAPER,
    "state-media": Source.Kind.AGENCY,
    "primary": Source.Kind.OFFICIAL,
    "think-tank": Source.Kind.ANALYSIS,
    "repost": Source.Kind.AGGREGATOR,
}


@cached("format", form=SourceFilterForm)
@require_safe
def source_list(request):
    if request.GET.get("kind") in FORMER_KINDS:
        # A kind's value before sources were kinded by publisher: shared addresses still open.
        query = request.GET.copy()
        query["kind"] = FORMER_KINDS[query["kind"]]
        return redirect(f"{request.path}?{query.urlencode()}", permanent=True)
    form = SourceFilterForm(request.GET)
    sources = Source.objects.annotate(citation_count=Count("citations"))
    status = 200
    if form.is_valid():
        if form.cleaned_data["kind"]:
            sources = sources.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["publisher"]:
            sources = sources.filter(publisher=form.cleaned_data["publisher"])
    else:
        status = 400
        sources = sources.none()
    fmt = exports.requested_format(request)
    if fmt is None:
        return exports.bad_format()
    if fmt != "html" and status == 400:
        return exports.bad_filters(form)
    if fmt != "html" and status == 200:
        shown = [exports.source_row(request, source) for source in sources]
        filters = list(form.cleaned_data.items())
        return exports.respond(fmt, shown, exports.SOURCE_COLUMNS, "sources", filters)
    return render(
        request, "negotiations/sources.html", {"form": form, "sources": sources}, status=status
    )


@cached("format")
@require_safe
def source_detail(request, slug):
    fmt = exports.requested_format(request)
    if fmt is None:
        return exports.bad_format()
    source = get_object_or_404(Source, slug=slug)
    citations = (
        source.citations.select_related(
            "demand__section__proposal__party", "demand__option", "version__disagreement"
        )
        .select_related("relation__topic")
        .order_by(
            F("demand__code").asc(nulls_last=True),
            F("relation__slug").asc(nulls_last=True),
            "version__disagreement__code",
            "version__order",
            "order",
            "pk",
        )
    )
    if fmt != "html":
        shown = [exports.quote_row(request, citation) for citation in citations]
        return exports.respond(fmt, shown, exports.QUOTE_COLUMNS, f"source-{source.slug}")
    return render(request, "negotiations/source.html", {"source": source, "citations": citations})


@cached("format")
@require_safe
def party_detail(request, slug):
    party = get_object_or_404(Party, slug=slug)
    proposals = party.proposals.select_related("round").annotate(
        demand_count=Count("sections__demands")
    )
    demands = (
        Demand.objects.filter(section__proposal__party=party)
        .with_details()
        .order_by(
            "topic__order", "section__proposal__slug", "section__order", "option__order", "order"
        )
    )
    fmt = exports.requested_format(request)
    if fmt is None:
        return exports.bad_format()
    if fmt != "html":
        shown = [exports.demand_row(request, demand) for demand in demands]
        return exports.respond(fmt, shown, exports.DEMAND_COLUMNS, f"party-{party.slug}")
    by_topic = [
        {"topic": topic, "demands": list(items)}
        for topic, items in groupby(demands, key=lambda d: d.topic)
    ]
    return render(
        request,
        "negotiations/party.html",
        {"party": party, "proposals": proposals, "by_topic": by_topic},
    )


@cached()
@require_safe
def rounds(request):
    all_rounds = Round.objects.prefetch_related(
        Prefetch(
            "proposals",
            Proposal.objects.select_related("party").annotate(
                demand_count=Count("sections__demands")
            ),
        ),
        Prefetch("disagreements", Disagreement.objects.prefetch_related("versions")),
    )
    return render(request, "negotiations/rounds.html", {"rounds": all_rounds})


# The change log lists this many changes a page, newest first.
CHANGES_PAGE_SIZE = 100


@cached(form=ChangesForm)
@require_safe
def changes(request):
    # A fixed number of queries on any page: the count, the page's keys, then one per model
    # with a change on the page, two per such model with links, and one per model with public
    # pages, citations included (see describe_changes); one more to find a demand asked for.
    form = ChangesForm(request.GET)
    page = None
    if form.is_valid():
        demand = form.cleaned_data["demand"]
        page = _page(form, change_keys(demand and demand["id"]), CHANGES_PAGE_SIZE)
    if page is None:
        return render(request, "negotiations/changes.html", {"form": form}, status=400)
    context = {
        "changes": describe_changes(page.object_list),
        "page": page,
        "demand": demand,
        # The number of the page's newest change, counted from the oldest.
        "first_number": page.paginator.count - page.start_index() + 1,
    }
    return render(request, "negotiations/changes.html", context)


# What XML 1.0 cannot carry: most control characters, lone surrogates and two non-characters.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text):
    """Text as XML can carry it. Curated text refuses control characters (check_plain_text),
    but what was stored before, or by another way in, must not take the whole feed down."""
    return NOT_IN_XML.sub("", text)


class ChangesFeed(Feed):
    feed_type = Atom1Feed
    title = "Istanbul talks 2025: changes to the data"
    subtitle = "Every change curators make to the provisions, sources and citations."

    def link(self):
        return reverse("changes")

    def get_object(self, request):
        return request  # what items() makes each entry's id absolute with

    def items(self, request):
        changes = recent_changes(50)
        for change in changes:
            # Atom ids are absolute IRIs: a reader may drop or repeat entries with relative ones.
            change["id"] = request.build_absolute_uri(f"{reverse('changes')}#{change['anchor']}")
        return changes

    def item_title(self, change):
        return _xml_text(change["description"])  # an Atom title is text

    def item_description(self, change):
        # Atom1Feed labels a summary type="html": escaped, the text stays text in a reader
        # (a topic named "<img src=x>" is shown, not loaded).
        reason = change["record"].history_change_reason
        text = f"{change['description']} Reason: {reason}" if reason else change["description"]
        return escape(_xml_text(text))

    def item_link(self, change):
        return change["url"] or change["id"]

    def item_guid(self, change):
        return change["id"]

    def item_pubdate(self, change):
        return change["record"].history_date

    item_updateddate = item_pubdate

    def item_author_name(self, change):
        return _xml_text(change["author"])


def _data_version():
    """The date of the latest curated change: the dataset's version."""
    latest = [
        model.history.order_by("-history_date").values_list("history_date", flat=True)[:1]
        for model in TRACKED
    ]
    dates = [values[0] for values in latest if values]
    return max(dates).date() if dates else None


@cached()
@require_safe
def about(request):
    context = {
        "version": _data_version(),
        "counts": {
            "provisions": Demand.objects.count(),
            "sources": Source.objects.count(),
            "citations": Citation.objects.count(),
            "disagreements": Disagreement.objects.count(),
        },
        "dataset_url": request.build_absolute_uri(reverse("dataset")),
        "site_url": request.build_absolute_uri(reverse("home")),
    }
    return render(request, "negotiations/about.html", context)


@cached()
@require_safe
def dataset(request):
    """Every curated record, with natural keys: the same records as the fixture files."""
    data = [record for _, parts in FIXTURE_FILES for record in records(parts)]
    response = HttpResponse(to_json(data), content_type="application/json; charset=utf-8")
    version = _data_version()
    name = f"istanbul-talks-dataset-{version.isoformat() if version else 'empty'}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@cached("format", form=CompareForm)
@require_safe
def compare(request):
    """Two proposals side by side, topic by topic: /compare/?a=<slug>&b=<slug>."""
    fmt = exports.requested_format(request)
    if fmt is None:
        return exports.bad_format()
    form = CompareForm(request.GET or None)
    context = {"form": form, "rows": []}
    status = 200
    if form.is_bound and form.is_valid() and form.cleaned_data["a"] and form.cleaned_data["b"]:
        first, second = form.cleaned_data["a"], form.cleaned_data["b"]
        demands = Demand.objects.with_details().in_document_order()
        context.update(
            first=first,
            second=second,
            same_party=first.party_id == second.party_id,
            rows=compare_proposals(
                Topic.objects.all(),
                list(demands.filter(section__proposal=first)),
                list(demands.filter(section__proposal=second)),
                first.party_id == second.party_id,
            ),
        )
    elif form.is_bound and form.errors:
        if fmt != "html":
            return exports.bad_filters(form)
        status = 400
    if fmt != "html" and status == 200:
        shown = exports.compare_rows(request, context["rows"], context.get("same_party"))
        filters = [(key, value and value.slug) for key, value in form.cleaned_data.items()]
        return exports.respond(fmt, shown, exports.COMPARE_COLUMNS, "compare", filters)
    return render(request, "negotiations/compare.html", context, status=status)


@require_safe
def healthz(request):
    """200 when the database answers, 503 when it does not; for load balancers and monitors."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unreachable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
