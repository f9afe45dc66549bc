"""The change log: every change to curated data recorded as a revision, and told in words.

Everything that writes curated data goes through Model.save() and Model.delete(), which record
history. bulk_create() would not, so the only bulk writes (of rows and of their links) live
here and record history too.
A delete and a restore record what they take along and bring back: see restore.py.
"""

from collections import defaultdict

from django.db.models import IntegerField, Q, Value
from simple_history.utils import bulk_create_with_history

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
    ContextFigure,
    ProvisionLink,
]
ACTIONS = {"+": "Added", "~": "Changed", "-": "Deleted"}
# Fields that say nothing to a reader when they change (a link check's status says it all).
QUIET_FIELDS = {"updated_at", "created_at", "revision", "link_checked", "archive_checked"}


def bulk_create(model, objects, *, reason):
    """Create many rows at once and record a history entry for each."""
    return bulk_create_with_history(objects, model, default_change_reason=reason)


def bulk_link(field, pairs):
    """Link records just made by bulk_create() to others at once: `pairs` of (record, id of
    the record it links to) through the many-to-many `field`. Each record's first revision
    then holds its links, as a save followed by its form's links would record them."""
    through = field.remote_field.through
    own, other = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
    links = through.objects.bulk_create([through(**{own: obj.pk, other: pk}) for obj, pk in pairs])
    historical = field.model.history.model
    first = dict(
        historical.objects.filter(
            id__in={obj.pk for obj, _ in pairs}, history_type="+"
        ).values_list("id", "history_id")
    )
    recorded = getattr(historical, field.name).model  # the links' history table
    recorded.objects.bulk_create(
        [
            recorded(
                history_id=first[getattr(link, own)],
                **{"id": link.pk, own: getattr(link, own), other: getattr(link, other)},
            )
            for link in links
        ]
    )


def record_revision(obj, *, created, using=None):
    """Record the revision of a record saved with `skip_history_when_saving` set, as its save
    would have: with its `_change_reason`, `_history_user` (or the request's) and
    `_history_date`, and its links as they are now. The save itself already sent post_save,
    so every receiver ran once."""
    del obj.skip_history_when_saving
    type(obj).revisions.create_historical_record(obj, "+" if created else "~", using=using)


def label(record):
    """A short name for a historical row, without touching related tables: a citation, which
    has no name of its own, by the start of its quote; a link by the start of its rationale."""
    for name in ("code", "slug", "claim", "name", "label"):
        value = getattr(record, name, None)
        if value:
            return str(value)
    # A citation by its quote, a link between provisions by its rationale.
    quote = getattr(record, "quote", "") or getattr(record, "rationale", "")
    if quote:
        return f"“{quote}”" if len(quote) <= 60 else f"“{quote[:59].rstrip()}…”"
    return f"#{record.id}"


# Models with a public page, and the field its address is built from.
PAGE_KEYS = {Demand: "code", Topic: "slug", Source: "slug", Proposal: "slug", Party: "slug"}


def live_pages(by_model):
    """{(model, id): the page's address now} for records that still exist: a change to a record
    renamed since links to its new address, and one to a record deleted since links nowhere.
    One query per model with pages (a citation's is its source's)."""
    pages = {}
    for model, ids in by_model.items():
        if model is Citation:  # shown on its source's page, where each has an anchor
            for pk, slug in model.objects.filter(pk__in=ids).values_list("pk", "source__slug"):
                pages[model, pk] = Citation(pk=pk, source=Source(slug=slug)).get_absolute_url()
        elif model in PAGE_KEYS:
            key = PAGE_KEYS[model]
            for pk, value in model.objects.filter(pk__in=ids).values_list("pk", key):
                pages[model, pk] = model(**{key: value}).get_absolute_url()
    return pages


def _short(value):
    text = str(value) if value not in (None, "") else "empty"
    return text if len(text) <= 80 else text[:77] + "…"


def compared_fields(model):
    """The fields whose change is a change worth telling: kept in the history (no search
    columns, no revision) and not timestamps."""
    kept = {field.name for field in model.history.model._meta.concrete_fields}
    return [
        field
        for field in model._meta.concrete_fields
        if field.name not in QUIET_FIELDS and field.name in kept
    ]


def describe(record, previous, links=None):
    """What changed, in words. `links`: {history id: {field: names}} from recorded_links()."""
    kind = record.instance_type._meta.verbose_name
    action = ACTIONS[record.history_type]
    text = f"{action} {kind} {label(record)}"
    if record.history_type != "~" or previous is None:
        return text + "."
    fields = compared_fields(record.instance_type)
    editable = [field.name for field in fields if field.editable]
    delta = record.diff_against(previous, included_fields=editable, foreign_keys_are_objs=False)
    changes = [(change.field, change.old, change.new) for change in delta.changes]
    # diff_against() leaves out fields no form edits, such as a link check's findings.
    for field in fields:
        old, new = getattr(previous, field.attname), getattr(record, field.attname)
        if not field.editable and old != new:
            changes.append((field.name, old, new))
    links = links or {}
    before, after = links.get(previous.history_id, {}), links.get(record.history_id, {})
    for name in sorted(before.keys() | after.keys()):
        if before.get(name, ()) != after.get(name, ()):
            old, new = (", ".join(names.get(name, ())) for names in (before, after))
            changes.append((name, old, new))
    if not changes:
        return text + " (no visible change)."
    parts = [
        f"{name.replace('_', ' ')}: {_short(old)} → {_short(new)}" for name, old, new in changes
    ]
    return f"{text}: " + "; ".join(parts) + "."


def change_keys(demand_id=None):
    """Every change as (date, model's place in TRACKED, history id, object id), newest first;
    with `demand_id`, only those to that demand and to the quotes, numbers and links to the other
    side's provisions it had.

    One UNION ALL over the history tables, so a page of the change log is one LIMIT and OFFSET
    and the total one COUNT, however far back the page is.
    """
    histories = [(index, model.history.order_by()) for index, model in enumerate(TRACKED)]
    if demand_id is not None:
        own = {
            Demand: Q(id=demand_id),
            Citation: Q(demand_id=demand_id),
            Parameter: Q(demand_id=demand_id),
            ProvisionLink: Q(demand_id=demand_id) | Q(counterpart_id=demand_id),
        }
        histories = [
            (index, history.filter(own[model]))
            for (index, history), model in zip(histories, TRACKED, strict=True)
            if model in own
        ]
    parts = [
        history.annotate(model_index=Value(index, IntegerField())).values_list(
            "history_date", "model_index", "history_id", "id"
        )
        for index, history in histories
    ]
    everything = parts[0].union(*parts[1:], all=True)
    return everything.order_by("-history_date", "model_index", "-history_id")


def recent_changes(limit=50):
    """The latest changes across every curated model, newest first, each described in words."""
    return describe_changes(change_keys()[:limit])


def author(user):
    """Who made a change, as the public change log names them: by name, never by login name,
    which is half of what it takes to sign in. No user: the fixtures' import or a command."""
    if user is None:
        return "import"
    return user.get_full_name() or "a curator"


def recorded_links(model, history_ids):
    """{history id: {field: sorted names}}: the many-to-many links each of these revisions
    recorded (a demand's secondary topics, a relation's demands). A query per linked field and
    one per model linked to; a record linked to since deleted is named by its id."""
    historical = model.history.model
    links, wanted = defaultdict(dict), []
    for field in historical._history_m2m_fields:
        through = getattr(historical, field.name).model  # the links' history table
        column = f"{field.m2m_reverse_field_name()}_id"
        rows = through.objects.filter(history_id__in=history_ids).values_list("history_id", column)
        wanted.append((field, list(rows)))
    names = {}
    for target in {field.related_model for field, _ in wanted}:
        ids = {pk for field, rows in wanted if field.related_model is target for _, pk in rows}
        for obj in target.objects.filter(pk__in=ids):
            names[target, obj.pk] = getattr(obj, "name", None) or label(obj)
    for field, rows in wanted:
        grouped = defaultdict(list)
        for history_id, pk in rows:
            grouped[history_id].append(names.get((field.related_model, pk), f"#{pk}"))
        for history_id in history_ids:
            links[history_id][field.name.replace("_", " ")] = tuple(sorted(grouped[history_id]))
    return links


def describe_changes(keys):
    """The changes of these change_keys(), in their order, each described in words.

    One query for the keys, then per model with a change among them one for the whole history
    of the records changed (the changes and the revisions before them, to say what changed),
    two for the links of a model with links (see recorded_links), and one per model with public
    pages for where those are now.
    """
    keys = list(keys)
    by_model = defaultdict(set)
    for _, index, _, object_id in keys:
        by_model[TRACKED[index]].add(object_id)
    earlier, loaded = defaultdict(list), {}
    for model, ids in by_model.items():
        history = model.history.select_related("history_user").filter(id__in=ids)
        for row in history.order_by("history_date", "history_id"):
            earlier[model, row.id].append(row)
            loaded[model, row.history_id] = row
    records = [loaded[TRACKED[index], history_id] for _, index, history_id, _ in keys]
    links = {}
    for model in by_model:
        if model.history.model._history_m2m_fields:
            ids = [history_id for m, history_id in loaded if m is model]
            links[model] = recorded_links(model, ids)
    pages = live_pages(by_model)
    changes = []
    for record in records:
        trail = earlier[record.instance_type, record.id]
        position = next(i for i, row in enumerate(trail) if row.history_id == record.history_id)
        previous = trail[position - 1] if position else None
        changes.append(
            {
                "record": record,
                "kind": record.instance_type._meta.verbose_name,
                "description": describe(record, previous, links.get(record.instance_type)),
                "author": author(record.history_user),
                "url": pages.get((record.instance_type, record.id)),
                "anchor": f"change-{record.instance_type._meta.model_name}-{record.history_id}",
            }
        )
    return changes
