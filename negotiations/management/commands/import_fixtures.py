import json
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError, deserialize_fk_value
from django.db import DEFAULT_DB_ALIAS, connection, transaction

from negotiations.changelog import TRACKED, record_revision
from negotiations.curated import FIXTURE_FILES
from negotiations.models import Source


class Command(BaseCommand):
    help = (
        "Load fixture files, checking every record first. All or nothing: one bad record "
        "leaves the database as it was. Every change is recorded in the history."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="Default: the curated files in fixtures/.")

    def handle(self, *args, files, **options):
        directory = Path(settings.FIXTURE_DIRS[0])
        paths = [Path(f) for f in files] or [directory / name for name, _ in FIXTURE_FILES]
        self.seen = {}
        # Into an empty history, each new record's first revision is dated when it was curated
        # (see save). Into a database with a history, new records are dated now: a record
        # deleted and imported again, or a quote added to a demand edited since, must not sort
        # before the revisions it follows.
        self.backdate = not any(model.history.exists() for model in TRACKED)
        with transaction.atomic():
            totals = [self.load(path) for path in paths]
            # Records with explicit ids (citations, parameters) leave PostgreSQL's id sequences
            # behind; move them past the loaded ids, as loaddata does.
            models = {model for model, _ in self.seen}
            statements = connection.ops.sequence_reset_sql(no_style(), models)
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        changed = sum(t[0] for t in totals)
        records = sum(t[1] for t in totals)
        self.stdout.write(f"{records} records checked, {changed} added or changed.")

    def load(self, path):
        try:
            records = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise CommandError(f"{path}: cannot read it as JSON: {error}") from error
        if not isinstance(records, list):
            raise CommandError(f"{path}: expected a list of records")
        changed = 0
        for number, record in enumerate(records, 1):
            label = f"{path.name}, record {number} ({describe(record)})"
            try:
                changed += self.save(record, path.name, f"{path.name} record {number}")
            except CommandError as error:
                raise CommandError(f"{label}: {error}") from None
        return changed, len(records)

    def save(self, record, file_name, where):
        try:
            [deserialized] = serializers.deserialize(
                "python", [record], handle_forward_references=False
            )
        except DeserializationError as error:
            raise CommandError(explain(record, error)) from None
        obj = deserialized.object
        model = type(obj)
        key = obj.natural_key() if hasattr(obj, "natural_key") else ("pk", obj.pk)
        if (model, key) in self.seen:
            raise CommandError(f"duplicate key {key!r}: {self.seen[model, key]} has it too")
        self.seen[model, key] = where

        existing = model.objects.filter(pk=obj.pk).first() if obj.pk else None
        if existing and unchanged(existing, obj, deserialized.m2m_data):
            return 0
        obj._state.adding = existing is None  # so uniqueness checks exclude the row itself
        try:
            obj.full_clean()
        except ValidationError as error:
            fields = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            )
            raise CommandError(fields) from None
        obj._change_reason = f"Imported from {file_name}"
        if existing and isinstance(obj, Source):
            # A raw save would reset what the link check found: the files hold curated data only.
            obj.keep_findings(existing)
        # A raw save keeps the file's values exactly (timestamps, version), so an export of an
        # unchanged database gives the same bytes; the history is then recorded
        # explicitly (record_revision), the save having sent post_save once already.
        # No revision for the links alone either: the one recorded below holds them with the
        # record (simple-history records an m2m change as a revision of its own).
        obj.skip_history_when_saving = True
        deserialized.save()
        if self.backdate and existing is None and getattr(obj, "updated_at", None):
            # Dated when it was curated, as its page says, not when this database was filled.
            obj._history_date = obj.updated_at
        record_revision(obj, created=existing is None, using=DEFAULT_DB_ALIAS)
        return 1


def describe(record):
    if not isinstance(record, dict):
        return "not a record"
    fields = record.get("fields") or {}
    key = fields.get("slug") or fields.get("code") or record.get("pk")
    return f"{record.get('model')} {key!r}" if key is not None else str(record.get("model"))


def explain(record, error):
    """Name the field whose value could not be resolved, not just the record."""
    try:
        model = apps.get_model(record["model"])
    except (LookupError, KeyError, TypeError, ValueError):
        return f"unknown model {record.get('model')!r}"
    for name, value in (record.get("fields") or {}).items():
        try:
            field = model._meta.get_field(name)
        except Exception:
            return f"{name}: no such field"
        if field.many_to_one or field.one_to_one:
            try:
                deserialize_fk_value(field, value, DEFAULT_DB_ALIAS, False)
            except Exception:
                target = field.remote_field.model.__name__
                return f"{name}: no {target} with key {value!r}"
        elif field.many_to_many:
            for item in value or []:
                try:
                    field.remote_field.model._default_manager.get_by_natural_key(*item)
                except Exception:
                    target = field.remote_field.model.__name__
                    return f"{name}: no {target} with key {item!r}"
    return str(error).split(": (")[0]


def unchanged(existing, obj, m2m_data):
    for field in obj._meta.concrete_fields:
        if not field.serialize:
            continue  # derived columns (search vectors) are not part of the files
        if getattr(existing, field.attname) != getattr(obj, field.attname):
            return False
    for name, pks in m2m_data.items():
        if set(getattr(existing, name).values_list("pk", flat=True)) != set(pks):
            return False
    return True
