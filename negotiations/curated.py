"""The curated data as files: which models go in which fixture, in which order.

export_fixtures writes them and import_fixtures reads them back, so the two agree by design;
the whole-dataset download on the About page is the same records in one file.
"""

import json

from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder

from negotiations.models import (
    Citation,
    ContextFigure,
    Demand,
    Disagreement,
    Option,
    Parameter,
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

# Synthetic data (manage.py generate_synthetic) lives in proposals with this slug prefix and is
# never written to the fixtures.
SYNTHETIC = "synthetic-"
IN_SYNTHETIC = {
    "proposal": "slug__startswith",
    "section": "proposal__slug__startswith",
    "option": "section__proposal__slug__startswith",
    "demand": "section__proposal__slug__startswith",
    "citation": "demand__section__proposal__slug__startswith",
    "parameter": "demand__section__proposal__slug__startswith",
    "provisionlink": "demand__section__proposal__slug__startswith",
}

# (file name, [(model, queryset filter, ordering)]) in loading order: natural keys must resolve.
FIXTURE_FILES = [
    ("01_reference.json", [(Party, {}, ["slug"]), (Round, {}, ["slug"]), (Topic, {}, ["slug"])]),
    ("02_sources.json", [(Source, {}, ["slug"])]),
    (
        "03_proposals.json",
        [
            (Proposal, {}, ["slug"]),
            (Section, {}, ["proposal__slug", "label"]),
            (Option, {}, ["section__proposal__slug", "section__label", "label"]),
        ],
    ),
    (
        "04_demands.json",
        [
            (Demand, {}, ["code"]),
            (Citation, {"demand__isnull": False}, ["pk"]),
            (Parameter, {}, ["pk"]),
        ],
    ),
    (
        "05_analysis.json",
        [
            (Relation, {}, ["slug"]),
            (Citation, {"relation__isnull": False}, ["pk"]),
            (Disagreement, {}, ["slug"]),
            (Version, {}, ["disagreement__slug", "order"]),
            (Citation, {"version__isnull": False}, ["pk"]),
        ],
    ),
    ("06_context.json", [(ContextFigure, {}, ["slug"])]),
    ("07_links.json", [(ProvisionLink, {}, ["demand__code", "counterpart__code"])]),
]


def label(model):
    return model._meta.label_lower  # as a fixture names it: "negotiations.demand"


# What each file may hold, and what an import accepts at all: curated data, nothing else (no
# user, no group, no permission).
FILE_MODELS = {name: {label(model) for model, _, _ in parts} for name, parts in FIXTURE_FILES}
CURATED_MODELS = {label(model): model for _, parts in FIXTURE_FILES for model, _, _ in parts}


def records(parts):
    """The records of one fixture file, with natural keys, in a stable order."""
    result = []
    for model, filters, ordering in parts:
        queryset = model.objects.filter(**filters)
        if lookup := IN_SYNTHETIC.get(model._meta.model_name):
            queryset = queryset.exclude(**{lookup: SYNTHETIC})
        result += serializers.serialize(
            "python",
            queryset.order_by(*ordering),
            use_natural_foreign_keys=True,
            use_natural_primary_keys=True,
        )
    return result


def to_json(data):
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2) + "\n"
