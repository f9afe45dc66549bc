"""The edit trail: recent changes across all curated models, in words, and the one bulk writer.

Everything that writes curated data goes through Model.save() and Model.delete(), which record
history. bulk_create() would not, so the only bulk write lives here and records history too.
"""

import datetime
from collections import defaultdict

from django.db import connection
from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from negotiations.models import (
    Citation,
    DataVersion,
    Demand,
    Disagreement,
    Option,
    Parameter,
    Party,
    Proposal,
    Relation,
    Round,
    Section,
    Source,
    Topic,
    Version,
)

TRACKED = [
    Demand,
    Citation,
    Parameter,
    Source,
    Proposal,
    Section,
    Option,
    Topic,
    Party,
    Round,
    Relation,
    Disagreement,
    Version,
]
ACTIONS = {"+": "Added", "~": "Changed", "-": "Deleted"}
# Fields that say nothing to a reader when they change.
QUIET_FIELDS = {"updated_at", "created_at", "revision"}


def bulk_create(model, objects, *, reason):
    """Create many rows at once and record a history entry for each."""
    return bulk_create_with_history(objects, model, default_change_reason=reason)


def label(record):
    """A short name for a historical row, without touching related tables."""
    for name in ("code", "slug", "claim", "name", "label"):
        value = getattr(record, name, None)
        if value:
            return str(value)
    return f"#{record.id}"


def public_url(record):
    """The public page of the object, while it exists; None for deleted objects."""
    if record.history_type == "-" or not hasattr(record.instance_type, "get_absolute_url"):
        return None
    if record.instance_type in (Demand, Topic, Source, Proposal, Party):
        return record.instance.get_absolute_url()
    return None


def _short(value):
    text = str(value) if value not in (None, "") else "empty"
    return text if len(text) <= 80 else text[:77] + "…"


def describe(record, previous):
    """What changed, in words."""
    kind = record.instance_type._meta.verbose_name
    action = ACTIONS[record.history_type]
    text = f"{action} {kind} {label(record)}"
    if record.history_type != "~" or previous is None:
        return text + "."
    fields = [
        field.name
        for field in record.instance_type._meta.concrete_fields
        if field.name not in QUIET_FIELDS and field.serialize  # not derived search columns
    ]
    delta = record.diff_against(previous, included_fields=fields, foreign_keys_are_objs=False)
    changes = delta.changes
    if not changes:
        return text + " (no visible change)."
    parts = [f"{c.field.replace('_', ' ')}: {_short(c.old)} → {_short(c.new)}" for c in changes]
    return f"{text}: " + "; ".join(parts) + "."


def recent_changes(limit=50):
    """The latest changes across every curated model, newest first, each described in words.

    Two queries per model, however many changes there are.
    """
    records = []
    for model in TRACKED:
        history = model.history.select_related("history_user")
        records += history.order_by("-history_date", "-history_id")[:limit]
    records.sort(key=lambda r: (r.history_date, r.history_id), reverse=True)
    records = records[:limit]

    # The revision before each one, fetched per model in one query, to say what changed.
    by_model = defaultdict(set)
    for record in records:
        by_model[record.instance_type].add(record.id)
    earlier = defaultdict(list)
    for model, ids in by_model.items():
        for row in model.history.filter(id__in=ids).order_by("history_date", "history_id"):
            earlier[model, row.id].append(row)
    changes = []
    for record in records:
        trail = earlier[record.instance_type, record.id]
        position = next(i for i, row in enumerate(trail) if row.history_id == record.history_id)
        previous = trail[position - 1] if position else None
        changes.append(
            {
                "record": record,
                "kind": record.instance_type._meta.verbose_name,
                "description": describe(record, previous),
                "url": public_url(record),
                "anchor": f"change-{record.instance_type._meta.model_name}-{record.history_id}",
            }
        )
    return changes


def data_version():
    """(number, time) of the latest change to curated data; (0, None) before any.

    Every page request reads it, cached or not, so it is one fixed statement: building it
    through the ORM took half the time of serving a cached page.
    """
    with connection.cursor() as cursor:
        table = DataVersion._meta.db_table  # the model's own table name, never input
        cursor.execute(f"SELECT value, changed_at FROM {table} WHERE id = 1")  # nosec B608
        row = cursor.fetchone()
    if row is None:
        return 0, None
    value, changed_at = row
    if changed_at is not None and timezone.is_naive(changed_at):  # SQLite stores UTC, zoneless
        changed_at = timezone.make_aware(changed_at, datetime.UTC)
    return value, changed_at


def bump_data_version(**kwargs):
    """Receiver for every save, delete and relation change of curated data (reverts too)."""
    now = timezone.now()
    if not DataVersion.objects.filter(pk=1).update(value=F("value") + 1, changed_at=now):
        DataVersion.objects.create(pk=1, value=1, changed_at=now)


def connect_signals():
    for model in TRACKED:
        post_save.connect(bump_data_version, sender=model, dispatch_uid=f"version-save-{model}")
        post_delete.connect(bump_data_version, sender=model, dispatch_uid=f"version-del-{model}")
    for through in (
        Demand.secondary_topics.through,
        Relation.demands.through,
        Disagreement.demands.through,
    ):
        m2m_changed.connect(
            bump_data_version, sender=through, dispatch_uid=f"version-m2m-{through}"
        )
