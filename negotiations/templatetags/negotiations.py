import re
from html import escape as escape_html

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from negotiations.models import MARK_END, MARK_START
from negotiations.search import highlighted

register = template.Library()

UNVERIFIED = " (quote not re-verified)"


@register.simple_tag
def site_title():
    """The end of every page title, also sent with htmx fragments (see home.html)."""
    return "Istanbul talks 2025 · positions side by side"


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
    """A listed demand's numbered links to its sources.

    Built here rather than in a template loop, and escaped with the standard library's escape()
    (what Django's escape() calls, minus its lazy-string wrapper): the comparison page shows
    some 300 markers, and they were a fifth of its render time.
    """
    if not isinstance(markers, list):  # a missing list would quietly show no sources at all
        raise TypeError("This demand has no citation markers: load them with the listing.")
    links = []
    for number, marker in enumerate(markers, 1):
        publisher = escape_html(marker.publisher)
        css, caveat = ("cite", "") if marker.verified else ("cite cite--unverified", UNVERIFIED)
        links.append(
            f'<a class="{css}" href="{escape_html(marker.href)}"'
            f' data-url="{escape_html(marker.url)}"'
            f' title="{publisher}: {escape_html(marker.title)}{caveat}"'
            f' aria-label="Source {number}: {publisher}{caveat}">{number}</a>'
        )
    # Every value is escaped above.
    return mark_safe("".join(links))  # nosec B308 B703
