import re
from html import escape as escape_html
from urllib.parse import urlsplit

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from negotiations.models import MARK_END, MARK_START, MARKER_KINDS
from negotiations.search import highlighted

register = template.Library()

UNVERIFIED = " (quote not re-verified)"


@register.simple_tag
def site_title():
    """The end of every page title, also sent with htmx fragments (see home.html)."""
    return "Istanbul talks 2025 · positions side by side"


@register.filter
def step_number(label):
    """The number a step's label starts with ("4" for "4", "1" for "1a"), or "" for none: two
    parts of one step (1a, 1b) share its number in a numbered list."""
    match = re.match(r"\d+", str(label))
    return match.group() if match else ""


@register.filter
def marked(text, query):
    """Text with the search matches in <mark>, safely escaped.

    PostgreSQL's headline has already marked the matches (between MARK_START and MARK_END);
    otherwise, as on SQLite, each spelling of each term searched for is marked wherever it
    occurs (an excluded word is not).
    """
    text = str(text)
    if MARK_START not in text and query:
        words = sorted({re.escape(word) for word in highlighted(str(query))}, key=len, reverse=True)
        if words:
            pattern = re.compile("(" + "|".join(words) + ")", re.IGNORECASE)
            text = pattern.sub(lambda m: f"{MARK_START}{m.group(0)}{MARK_END}", text)
    html = escape(text).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    # Escaped above; only <mark> is added after.
    return mark_safe(html)  # nosec B308 B703


@register.filter
def citation_markers(markers):
    """A listed demand's sources: one marker per source naming its publisher and showing its
    kind in words and by shape, inside a disclosure (one tab stop per demand) that lists, for
    each source, its credit, date, address and a link to each quote on the source's page.

    Built here rather than in a template loop, and escaped with the standard library's escape()
    (what Django's escape() calls, minus its lazy-string wrapper): the comparison page shows
    some 300 quotes, and a template loop over them was a fifth of its render time.
    """
    if not isinstance(markers, list):  # a missing list would quietly show no sources at all
        raise TypeError("This demand has no citation markers: load them with the listing.")
    chips, items = [], []
    for marker in markers:
        word, shape = MARKER_KINDS[marker.kind]
        kind = f"state {word}" if marker.state_media and marker.kind != "copy" else word
        css = f"cite cite--{marker.kind}" + ("" if marker.verified else " cite--unverified")
        caveat = "" if marker.verified else f'<span class="visually-hidden">{UNVERIFIED}</span>'
        chips.append(
            f'<span class="{css}"><span class="cite-shape" aria-hidden="true">{shape}</span> '
            f'{escape_html(marker.name)} <span class="cite-kind">{kind}</span>{caveat}</span>'
        )
        quotes = ", ".join(
            f'<a href="{escape_html(quote.href)}">quote {number}</a>'
            + ("" if quote.verified else " (not re-verified)")
            for number, quote in enumerate(marker.quotes, 1)
        )
        day = marker.published
        date = f"{day.day} {day:%b %Y}" if day else "date not shown"
        address = ""
        if marker.url:
            host = escape_html(urlsplit(marker.url).hostname or marker.url)
            label = f"copy at {host}" if marker.url_is_copy else host
            address = (
                f' · <a class="external" href="{escape_html(marker.url)}"'
                f' rel="noopener noreferrer">{label}</a>'
            )
        items.append(
            f'<li><a href="{escape_html(marker.href)}">{escape_html(marker.credit)}</a>'
            f" ({kind}), {date}{address} · {quotes}</li>"
        )
    secondhand = ""
    if markers and all(marker.secondhand for marker in markers):
        secondhand = '<p class="secondhand">Backed only by aggregators or copies.</p>'
    html = (
        f'<div class="citations">{secondhand}<details class="sources"><summary>'
        f'<span class="sources-label">Sources</span> {"".join(chips)}</summary>'
        f'<ul class="source-list">{"".join(items)}</ul></details></div>'
    )
    # Every value is escaped above.
    return mark_safe(html)  # nosec B308 B703
