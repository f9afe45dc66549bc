"""Deleting and restoring: a delete records what it takes along, a restore brings it back.

Deleting a record deletes its dependants with it (a demand's citations and parameters, a
disagreement's versions and their citations, a proposal's sections and their options) and
removes every many-to-many link to it (a demand from the relations and disagreements that
name it). Refusing such deletes (PROTECT) is no answer: a demand cannot be saved without a
citation, so a mistaken demand could then never be deleted. Instead:

- every row one delete removes is recorded at the same moment (`history_date`), the
  dependants with the reason "Deleted with <record>";
- each link removed is removed through the owning record first, so the relation or
  disagreement gets a revision of its own, at that moment, saying which link went and why;
- the reason given for the delete (the admin asks for one) is the deleted record's own, and
  follows in brackets on every dependant and link revision: "Deleted with <record> (<why>)";
- restoring the deleted record from its history (the admin's revert form) finds, by that
  moment, the dependants deleted with it and the links removed with it, and brings them
  back, each with a revision saying why (restore_deleted_with below).

No extra table or column is needed: the history already holds every value and link.
"""

import functools
from collections import defaultdict

from django.db.models import CASCADE, Model, QuerySet
from django.db.models.signals import post_delete, pre_delete
from django.utils import timezone

from negotiations.changelog import TRACKED, label


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
        pre_delete.connect(record_deletion, sender=model, dispatch_uid=f"deletion-{model}")
        post_delete.connect(forget_deletion, sender=model, dispatch_uid=f"forget-{model}")
