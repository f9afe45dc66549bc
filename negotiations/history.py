"""The edit trail: recent changes across all curated models, in words, and the one bulk writer.

Everything that writes curated data goes through Model.save() and Model.delete(), which record
history. bulk_create() would not, so the only bulk write lives here and records history too.

A delete records what it takes along, and a restore brings it back: see "Deleting and
restoring" below.
"""

import datetime
import functools
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import CASCADE, F, IntegerField, Model, Q, QuerySet, Value
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
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
    ProvisionLink,
]
ACTIONS = {"+": "Added", "~": "Changed", "-": "Deleted"}
# Fields that say nothing to a reader when they change (a link check's status says it all).
QUIET_FIELDS = {"updated_at", "created_at", "revision", "link_checked", "archive_checked"}


def bulk_create(model, objects, *, reason):
    """Create many rows at once and record a history entry for each."""
    return bulk_create_with_history(objects, model, default_change_reason=reason)


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


def bump_for_names(sender, instance, **kwargs):
    """Receiver for a user's save (pre_save): the change log names each change's author, so a
    new name changes pages. Nothing else about a user shows: a login, a password or a new user
    leaves the data's version (and its date, which pages cite) as it was."""
    update_fields = kwargs.get("update_fields")
    if instance.pk is None or (update_fields and not {"first_name", "last_name"} & update_fields):
        return  # a login saves only last_login: no query for it
    stored = sender.objects.filter(pk=instance.pk).values_list("first_name", "last_name").first()
    if stored is not None and stored != (instance.first_name, instance.last_name):
        bump_data_version()


# Deleting and restoring
#
# Deleting a record deletes its dependants with it (a demand's citations and parameters, a
# disagreement's versions and their citations, a proposal's sections and their options) and
# removes every many-to-many link to it (a demand from the relations and disagreements that
# name it). Refusing such deletes (PROTECT) is no answer: a demand cannot be saved without a
# citation, so a mistaken demand could then never be deleted. Instead:
#
# - every row one delete removes is recorded at the same moment (`history_date`), the
#   dependants with the reason "Deleted with <record>";
# - each link removed is removed through the owning record first, so the relation or
#   disagreement gets a revision of its own, at that moment, saying which link went and why;
# - the reason given for the delete (the admin asks for one) is the deleted record's own, and
#   follows in brackets on every dependant and link revision: "Deleted with <record> (<why>)";
# - restoring the deleted record from its history (the admin's revert form) finds, by that
#   moment, the dependants deleted with it and the links removed with it, and brings them
#   back, each with a revision saying why (restore_deleted_with below).
#
# No extra table or column is needed: the history already holds every value and link.


def _reason(text):
    """A change reason that fits the history's column (100 characters)."""
    return text if len(text) <= 100 else text[:99] + "…"


def _name(obj):
    return f"{obj._meta.verbose_name} {label(obj)}"


@functools.cache  # the models do not change while the process runs
def dependants(model):
    """(model, foreign key column) of every curated model whose rows a delete of `model` takes."""
    return [
        (rel.related_model, rel.field.attname)
        for rel in model._meta.related_objects
        if rel.one_to_many and rel.on_delete is CASCADE and rel.related_model in TRACKED
    ]


@functools.cache  # the models do not change while the process runs
def parents(model):
    """(model, foreign key column) of every curated model whose delete takes `model` along."""
    return [
        (parent, column)
        for parent in TRACKED
        for child, column in dependants(parent)
        if child is model
    ]


@functools.cache  # the models do not change while the process runs
def links_to(model):
    """The curated many-to-many fields that point at `model` (Relation.demands for Demand)."""
    return [
        rel.field
        for rel in model._meta.related_objects
        if rel.many_to_many and rel.related_model in TRACKED
    ]


def record_deletion(sender, instance, origin=None, **kwargs):
    """pre_delete: date every row of one delete alike, say why dependants go, unlink with history.

    Django sends pre_delete for every row of a delete before it removes any of them, with
    `origin` the record (or queryset) whose delete() was called. The reason for the whole
    delete is the origin's `_change_reason` (set on the queryset for a bulk delete).
    """
    if origin is None:
        when = timezone.now()
    else:
        when = origin.__dict__.setdefault("_deletion_date", timezone.now())
    instance._history_date = when
    why = getattr(origin, "_change_reason", None) if origin is not None else None
    because = f" ({why})" if why else ""
    is_origin = instance is origin or (
        not isinstance(origin, Model) and getattr(origin, "model", None) is sender
    )
    if is_origin and why and not hasattr(instance, "_change_reason"):
        instance._change_reason = why  # a row of a deleted queryset
    if not is_origin and not hasattr(instance, "_change_reason"):
        parent = origin if isinstance(origin, Model) else None
        for model, column in parents(sender):
            if parent is None and getattr(instance, column) is not None:
                parent = _deleted_parent(origin, model, getattr(instance, column))
        if parent is not None:
            instance._change_reason = _reason(f"Deleted with {_name(parent)}{because}")
    for field in links_to(sender):
        for owner in _link_owners(origin, field, instance):
            owner._history_date = when
            owner._change_reason = _reason(
                f"Link to {label(instance)} removed: {label(instance)} was deleted{because}"
            )
            if hasattr(instance, "_history_user"):
                owner._history_user = instance._history_user
            getattr(owner, field.name).remove(instance)


def _deleted_parent(origin, model, pk):
    """The `model` row `pk` whose delete takes a dependant along, fetched once per delete.

    Each parent has many dependants (a demand its citations and parameters); looking it up
    for each of them would cost a query per dependant. The rows of a deleted queryset that
    the admin has already loaded cost none.
    """
    if origin is None:
        return model.objects.get(pk=pk)
    known = origin.__dict__.get("_deleted_parents")
    if known is None:
        known = origin.__dict__["_deleted_parents"] = {}
        cached = getattr(origin, "_result_cache", None)
        for row in cached or ():
            known[type(row), row.pk] = row
    if (model, pk) not in known:
        known[model, pk] = model.objects.get(pk=pk)
    return known[model, pk]


def _link_owners(origin, field, instance):
    """The records whose many-to-many `field` links to `instance`, which is being deleted.

    For the rows of a deleted queryset that the admin has already loaded, one query finds the
    owners for all of them: a query per row would make a bulk delete grow with the selection.
    """
    rows = getattr(origin, "_result_cache", None) if isinstance(origin, QuerySet) else None
    if not rows or instance.pk not in {row.pk for row in rows if type(row) is type(instance)}:
        return field.model.objects.filter(**{field.name: instance})
    found = origin.__dict__.setdefault("_link_owners", {})
    if field not in found:
        owner, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        links = field.remote_field.through.objects.filter(
            **{f"{target}__in": [row.pk for row in rows]}
        )
        found[field] = defaultdict(list)
        for link in links.select_related(owner).order_by(f"{owner}_id"):
            found[field][getattr(link, f"{target}_id")].append(getattr(link, owner))
    return found[field][instance.pk]


def forget_deletion(sender, instance, origin=None, **kwargs):
    """post_delete, after the history recorded the row: the shared moment must not linger on
    an object that may be saved again."""
    instance.__dict__.pop("_history_date", None)
    if origin is not None:
        origin.__dict__.pop("_deletion_date", None)
        origin.__dict__.pop("_deleted_parents", None)
        origin.__dict__.pop("_link_owners", None)


def linked_ids(record):
    """{many-to-many field: [ids of records that still exist]} as a historical record stood.

    A deletion's own row lists no links (they are gone when it is written), so for it the
    revision before is used.
    """
    if not record._history_m2m_fields:
        return {}
    if record.history_type == "-":
        record = (
            type(record)
            .objects.filter(id=record.id, history_id__lt=record.history_id)
            .order_by("-history_id")
            .first()
        )
        if record is None:
            return {}
    result = {}
    for field in record._history_m2m_fields:
        target = field.m2m_reverse_field_name()
        ids = getattr(record, field.name).values_list(f"{target}_id", flat=True)
        existing = field.related_model.objects.filter(pk__in=list(ids)).order_by("pk")
        result[field.name] = list(existing.values_list("pk", flat=True))
    return result


def restore_deleted_with(instance, *, user=None):
    """`instance` was deleted and has just been saved again from its history: bring back the
    dependants deleted with it and the links its deletion removed, recording each with why.

    Returns (records restored, records whose link to it was restored).
    Dependants that exist again already (restored one by one) and links whose owner has been
    deleted since are left alone.
    """
    deletion = (
        type(instance)
        .history.filter(id=instance.pk, history_type="-")
        .order_by("-history_date", "-history_id")
        .first()
    )
    restored, relinked = [], []
    if deletion is not None:
        _restore(instance, deletion.history_date, user, timezone.now(), restored, relinked)
    return restored, relinked


def _restore(parent, deleted_at, user, now, restored, relinked):
    for model, column in dependants(type(parent)):
        rows = model.history.filter(
            history_type="-", history_date=deleted_at, **{column: parent.pk}
        ).order_by("history_id")
        for row in rows:
            if model.objects.filter(pk=row.id).exists() or _other_parent_gone(row, column):
                continue
            child = row.instance
            child._change_reason = _reason(f"Restored with {_name(parent)}")
            if user is not None:
                child._history_user = user
            child._history_date = now
            child.save()
            for name, ids in linked_ids(row).items():
                getattr(child, name).set(ids)
            restored.append(child)
            _restore(child, deleted_at, user, now, restored, relinked)
    for field in links_to(type(parent)):
        history = field.model.history
        for row in history.filter(history_type="~", history_date=deleted_at).order_by("history_id"):
            before = (
                history.filter(id=row.id, history_id__lt=row.history_id)
                .order_by("-history_id")
                .first()
            )
            if before is None or not _links(before, field, parent) or _links(row, field, parent):
                continue  # this revision did not remove the link to `parent`
            owner = field.model.objects.filter(pk=row.id).first()
            if owner is None:
                continue
            owner._change_reason = _reason(
                f"Link to {label(parent)} restored: {label(parent)} was restored"
            )
            if user is not None:
                owner._history_user = user
            owner._history_date = now
            getattr(owner, field.name).add(parent)
            relinked.append(owner)


def _other_parent_gone(row, column):
    """Whether a dependant deleted with one parent lost another since (a link between two
    provisions, when the other provision was deleted after): it cannot come back alone."""
    return any(
        not model.objects.filter(pk=getattr(row, other)).exists()
        for model, other in parents(row.instance_type)
        if other != column and getattr(row, other) is not None
    )


def _links(record, field, target):
    """Whether a historical record's many-to-many `field` included `target`."""
    column = f"{field.m2m_reverse_field_name()}_id"
    return getattr(record, field.name).filter(**{column: target.pk}).exists()


def connect_signals():
    for model in TRACKED:
        post_save.connect(bump_data_version, sender=model, dispatch_uid=f"version-save-{model}")
        post_delete.connect(bump_data_version, sender=model, dispatch_uid=f"version-del-{model}")
        pre_delete.connect(record_deletion, sender=model, dispatch_uid=f"deletion-{model}")
        post_delete.connect(forget_deletion, sender=model, dispatch_uid=f"forget-{model}")
    pre_save.connect(bump_for_names, sender=get_user_model(), dispatch_uid="version-user")
    for through in (
        Demand.secondary_topics.through,
        Relation.demands.through,
        Disagreement.demands.through,
    ):
        m2m_changed.connect(
            bump_data_version, sender=through, dispatch_uid=f"version-m2m-{through}"
        )
