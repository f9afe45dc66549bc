"""Reading the rendered pages the tests check."""

import re


def shown_codes(html):
    """Demand codes linked from the page's demand summaries, in page order."""
    return re.findall(r'class="demand-summary"><a href="/demands/([^/]+)/"', html)
