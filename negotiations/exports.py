"""CSV and JSON of exactly what a page shows: same URL, plus format=csv or format=json.

Column names are part of the interface: add new ones at the end, never rename.
"""

import csv
import io
import json

from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.text import slugify

FORMATS = ("csv", "json")
# What makes a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

DEMAND_COLUMNS = [
    "shown_under_topic",
    "code",
    "url",
    "party",
    "proposal",
    "proposal_kind",
    "section",
    "option",
    "item",
    "place",
    "topic",
    "secondary_topics",
    "kind",
    "status",
    "summary",
    "paraphrase",
    "parameters",
    "citations",
    "source_urls",
    "status_note",
    # The addresses of the copies some quotes were read on, never given as the publisher's:
    # `source_urls` holds only publishers' own addresses.
    "copy_urls",
    "round",
    "occurred_on",
    "occurred_until",
    # Our analysis: linked, no-counterpart, or joint (an outcome both delegations agreed).
    "counterpart_status",
    # Our analysis: each provision of the other side that answers it, how and why.
    "counterparts",
]
SOURCE_COLUMNS = [
    "slug",
    "url_on_this_site",
    "publisher",
    "title",
    "title_is_descriptive",
    "url",
    "url_note",
    "archived_url",
    "published",
    "published_note",
    "accessed",
    "language",
    "kind",
    "reliability_note",
    "citation_count",
    # What the link checks found (see manage.py check_links): unchecked, ok, refused, failing
    # (found dead once) or dead.
    "link_status",
    "link_checked",
    "archive_status",
    "archive_checked",
    # "Reuters, via HK Business Wire": the publisher and, for a copy, who published the copy.
    "credit",
    "copy_publisher",
    "short_name",
    "state_media",
    # Whether the only page to open is a copy (`archived_url`): the publisher's own is unknown.
    "read_on_copy",
]

# A source page: a row per quote taken from the source, and what it is quoted for.
QUOTE_COLUMNS = [
    "source",
    "quoted_for",
    "code",
    "text",
    "url",
    "quote",
    "translation",
    "locator",
    "quote_verified",
    "credit",
]

# A compared pair of proposals: a row per provision listed, or per pair matched by wording.
COMPARE_COLUMNS = [
    "topic",
    "topic_name",
    "coverage",
    "status",
    "code_a",
    "summary_a",
    "url_a",
    "proposal_a",
    "code_b",
    "summary_b",
    "url_b",
    "proposal_b",
    "wording_shared_percent",
    # Our analysis, for each side's provision: as counterpart_status and counterparts above.
    "counterpart_status_a",
    "counterparts_a",
    "counterpart_status_b",
    "counterparts_b",
]
COVERAGE = {"both": "both", "first": "only-a", "second": "only-b"}


def requested_format(request):
    """'html', 'csv' or 'json'; None for anything else (the caller answers 400)."""
    value = request.GET.get("format", "html")
    return value if value in ("html", *FORMATS) else None


def bad_format():
    return HttpResponseBadRequest(
        "Unknown format: use format=csv or format=json, or leave it out for the page.",
        content_type="text/plain; charset=utf-8",
    )


def bad_filters(form):
    """A download asked for with filters that are not valid: why, as plain text (a download's
    client reads no page)."""
    return HttpResponseBadRequest(
        " ".join(error for errors in form.errors.values() for error in errors),
        content_type="text/plain; charset=utf-8",
    )


def demand_row(request, demand, shown_under=None):
    proposal = demand.section.proposal
    citations = [
        {
            "source": citation.source.slug,
            "publisher": citation.source.publisher,
            "credit": citation.source.credit,
            "kind": citation.source.kind,
            "title": citation.source.title,
            # The publisher's own page; a copy's address only ever as `archived_url`.
            "url": citation.source.url,
            "archived_url": citation.source.archived_url,
            "copy_publisher": citation.source.copy_publisher,
            "quote": citation.quote,
            "translation": citation.translation,
            "locator": citation.locator,
            "quote_verified": citation.quote_verified,
        }
        for citation in demand.citations.all()
    ]
    return {
        "shown_under_topic": (shown_under or demand.topic).slug,
        "code": demand.code,
        "url": request.build_absolute_uri(demand.get_absolute_url()),
        "party": proposal.party.slug,
        "proposal": proposal.slug,
        "proposal_kind": proposal.kind,
        "section": demand.section.label,
        "option": demand.option.label if demand.option else "",
        "item": demand.label,
        "place": demand.place,
        "topic": demand.topic.slug,
        "secondary_topics": [topic.slug for topic in demand.secondary_topic_list],
        "kind": demand.kind,
        "status": demand.status,
        "summary": demand.summary,
        "paraphrase": demand.paraphrase,
        # As the page shows them: a note often says where sources give another number.
        "parameters": [
            f"{parameter} ({parameter.note})" if parameter.note else str(parameter)
            for parameter in demand.parameter_list
        ],
        "citations": citations,
        "source_urls": sorted({c["url"] for c in citations} - {""}),
        "status_note": demand.status_note,
        "copy_urls": sorted({c["archived_url"] for c in citations} - {""}),
        "round": proposal.round.slug,
        # When it happened, for what followed a round or was said then (ISO dates, or empty).
        "occurred_on": demand.occurred_on.isoformat() if demand.occurred_on else "",
        "occurred_until": demand.occurred_until.isoformat() if demand.occurred_until else "",
        "counterpart_status": demand.counterpart_status.value,
        "counterparts": [counterpart(pair) for pair in demand.counterparts],
    }


def counterpart(pair):
    """A linked provision of the other side, in words: "UA-P-12 (conflict): why"."""
    return f"{pair.demand.code} ({pair.link.kind}): {pair.link.rationale}"


def source_row(request, source):
    return {
        "slug": source.slug,
        "url_on_this_site": request.build_absolute_uri(source.get_absolute_url()),
        "publisher": source.publisher,
        "title": source.title,
        "title_is_descriptive": source.title_is_descriptive,
        "url": source.url,
        "url_note": source.url_note,
        "archived_url": source.archived_url,
        "published": source.published.isoformat() if source.published else "",
        "published_note": source.published_note,
        "accessed": source.accessed.isoformat(),
        "language": source.language,
        "kind": source.kind,
        "reliability_note": source.reliability_note,
        "citation_count": source.citation_count,
        "link_status": source.link_status,
        "link_checked": source.link_checked.isoformat() if source.link_checked else "",
        "archive_status": source.archive_status,
        "archive_checked": source.archive_checked.isoformat() if source.archive_checked else "",
        "credit": source.credit,
        "copy_publisher": source.copy_publisher,
        "short_name": source.short_name,
        "state_media": source.state_media,
        "read_on_copy": source.only_on_copy,
    }


def quote_row(request, citation):
    """What a quote supports: a provision, our analysis of a topic, or a version in a
    disagreement between sources."""
    if citation.demand:
        quoted_for, code = "provision", citation.demand.code
        text, page = citation.demand.summary, citation.demand.get_absolute_url()
    elif citation.relation:
        topic = citation.relation.topic
        quoted_for, code = "relation", citation.relation.slug
        text, page = f"How the positions relate on {topic}", topic.get_absolute_url()
    else:
        disagreement = citation.version.disagreement
        quoted_for, code = "disagreement", disagreement.code
        text, page = f"{disagreement.title}: {citation.version.claim}", ""
    return {
        "source": citation.source.slug,
        "quoted_for": quoted_for,
        "code": code,
        "text": text,
        "url": request.build_absolute_uri(page) if page else "",
        "quote": citation.quote,
        "translation": citation.translation,
        "locator": citation.locator,
        "quote_verified": citation.quote_verified,
        "credit": citation.source.credit,
    }


def compare_rows(request, rows, same_party):
    """The compare page's rows in its order. Two parties: each topic's provisions of A, then of
    B, each on its own side. One party's drafts: as the page lists them, only in B, only in A,
    reworded pairs, then unchanged pairs (the page shows one of the two; both codes are here)."""

    def side(demand, letter):
        if demand is None:
            keys = ("code", "summary", "url", "proposal", "counterpart_status", "counterparts")
            return {f"{key}_{letter}": "" for key in keys}
        return {
            f"code_{letter}": demand.code,
            f"summary_{letter}": demand.summary,
            f"url_{letter}": request.build_absolute_uri(demand.get_absolute_url()),
            f"proposal_{letter}": demand.section.proposal.slug,
            f"counterpart_status_{letter}": demand.counterpart_status.value,
            # One text, as every column of this file: " | " between provisions.
            f"counterparts_{letter}": " | ".join(counterpart(p) for p in demand.counterparts),
        }

    def line(row, status, a=None, b=None, shared=None):
        return {
            "topic": row["topic"].slug,
            "topic_name": row["topic"].name,
            "coverage": COVERAGE[row["coverage"]],
            "status": status,
            **side(a, "a"),
            **side(b, "b"),
            "wording_shared_percent": shared,
        }

    exported = []
    for row in rows:
        if same_party:
            exported += [line(row, "only-in-b", b=demand) for demand in row["added"]]
            exported += [line(row, "only-in-a", a=demand) for demand in row["dropped"]]
            exported += [
                line(row, "reworded", pair["first"], pair["second"], pair["similarity"])
                for pair in row["reworded"]
            ]
            exported += [line(row, "unchanged", a, b, 100) for a, b in row["kept"]]
        else:
            exported += [line(row, "in-a", a=demand) for demand in row["first"]]
            exported += [line(row, "in-b", b=demand) for demand in row["second"]]
    return exported


def _cell(value):
    """Lists flatten to one spreadsheet cell; citations read as publisher: “quote” <url>, or
    <copy: url> when only a copy's address is known, flagged where the quote could not be
    re-checked against a copy of the page."""
    if isinstance(value, list):
        parts = [
            f"{item['credit']}: “{item['quote']}” <{_address(item)}>"
            + ("" if item["quote_verified"] else " (quote not re-verified)")
            if isinstance(item, dict)
            else str(item)
            for item in value
        ]
        value = " | ".join(parts)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        # A spreadsheet would run "=…" as a formula (OWASP's CSV injection): a leading
        # apostrophe makes it text there; the JSON keeps the value as it is.
        return "'" + value
    return value


def _address(citation):
    if citation["url"] or not citation["archived_url"]:
        return citation["url"]
    return f"copy: {citation['archived_url']}"


def respond(fmt, rows, columns, name, filters=()):
    """The rows as a download named after the page and its filters."""
    parts = ["istanbul-talks", name, *(f"{key}-{value}" for key, value in filters if value)]
    filename = slugify("-".join(str(part) for part in parts))[:120]
    if fmt == "json":
        response = HttpResponse(
            json.dumps(rows, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
    else:
        # A byte-order mark first: without it, Excel opening the file reads it in the machine's
        # legacy code page and garbles every Ukrainian and Russian quote. Python reads it with
        # encoding="utf-8-sig", pandas and R's readr skip it by themselves.
        buffer = io.StringIO("\ufeff")
        buffer.seek(0, io.SEEK_END)
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _cell(row[key]) for key in columns})
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
