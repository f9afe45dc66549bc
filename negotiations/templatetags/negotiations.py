import re

from django import template
from django.utils.html import escape, format_html_join
from django.utils.safestring import mark_safe

from negotiations.models import MARK_END, MARK_START

register = template.Library()


@register.filter
def marked(text, query):
    """Text with the search matches in <mark>, safely escaped.

    PostgreSQL's headline has already marked the matches (between MARK_START and MARK_END);
    otherwise, as on SQLite, each word of the query is marked wherever it occurs.
    """
    text = str(text)
    if MARK_START not in text and query:
        words = sorted({re.escape(word) for word in str(query).split()}, key=len, reverse=True)
        if words:
            pattern = re.compile("(" + "|".join(words) + ")", re.IGNORECASE)
            text = pattern.sub(lambda m: f"{MARK_START}{m.group(0)}{MARK_END}", text)
    html = escape(text).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    return mark_safe(html)


@register.filter
def citation_markers(markers):
    """A listed demand's numbered links to its sources.

    Built here rather than in a template loop: the comparison page shows some 300 markers, and
    six template variables each made them a third of the page's render time.
    """
    return format_html_join(
        "",
        '<a class="cite" href="{}" data-url="{}" title="{}: {}" aria-label="Source {}: {}">{}</a>',
        (
            (
                marker.href,
                marker.url,
                marker.publisher,
                marker.title,
                number,
                marker.publisher,
                number,
            )
            for number, marker in enumerate(markers, 1)
        ),
    )
