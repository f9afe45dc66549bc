"""Provision cards, rendered once per version of the data and reused by every list showing them."""

from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch, prefetch_related_objects
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from negotiations.models import Citation
from negotiations.pagecache import RELEASE, request_data_version

CARD_TEMPLATE = "negotiations/_demand.html"


def with_details(demands):
    """Load what a listed demand's card shows besides its own fields: its numbers and its
    citation markers, in two queries."""
    prefetch_related_objects(demands, Prefetch("parameters", to_attr="parameter_list"))
    markers = Citation.objects.filter(demand__in=demands).markers()
    for demand in demands:
        demand.markers = markers[demand.pk]
    return demands


def with_cards(request, demands, tag):
    """Give each demand its card's HTML as `card`, from the cache where it is, rendering only
    the others. A card depends on nothing but its demand and the data (no search marks), so a
    never-seen filter combination assembles cards that other pages already rendered."""
    version, _ = request_data_version(request)
    keys = {f"card:{RELEASE}:{version}:{tag}:{demand.pk}": demand for demand in demands}
    found = cache.get_many(keys)
    missing = {key: demand for key, demand in keys.items() if key not in found}
    if missing:
        with_details(list(missing.values()))
        template = get_template(CARD_TEMPLATE)
        rendered = {
            key: template.render({"demand": demand, "tag": tag}) for key, demand in missing.items()
        }
        cache.set_many(rendered, settings.PAGE_CACHE_SECONDS)
        found |= rendered
    for key, demand in keys.items():
        demand.card = mark_safe(found[key])  # nosec B308 B703 - rendered by our template
    return demands
