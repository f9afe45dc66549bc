"""Load the curated fixture files into the database: checked first, all or nothing."""

import json
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError, deserialize_fk_value
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, transaction

from negotiations.changelog import TRACKED, record_revision
from negotiations.curated import CURATED_MODELS, FILE_MODELS, FIXTURE_FILES
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
            records = json.loads(path.read_text(encoding="utf-8"))
        except RecursionError:
            raise CommandError(f"{path.name}: nested too deeply to be a fixture file") from None
        except (OSError, ValueError) as error:
            raise CommandError(f"{path.name}: cannot read it as JSON: {error}") from None
        if not isinstance(records, list):
            raise CommandError(f"{path.name}: expected a list of records")
        # A file the manifest names holds its models only; any other, any curated model.
        allowed = FILE_MODELS.get(path.name, CURATED_MODELS.keys())
        changed = 0
        for number, record in enumerate(records, 1):
            label = f"{path.name}, record {number} ({describe(record)})"
            try:
                check_record(record, allowed)
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
        try:
            deserialized.save()
        except (DatabaseError, OverflowError) as error:  # what no check above foresaw
            raise CommandError(f"cannot be stored: {error}") from None
        if self.backdate and existing is None and getattr(obj, "updated_at", None):
            # Dated when it was curated, as its page says, not when this database was filled.
            obj._history_date = obj.updated_at
        record_revision(obj, created=existing is None, using=DEFAULT_DB_ALIAS)
        return 1


SCALARS = (str, int, float, bool, type(None))
RECORD_KEYS = {"model", "pk", "fields"}


def describe(record):
    if not isinstance(record, dict):
        return "not a record"
    fields = record.get("fields") if isinstance(record.get("fields"), dict) else {}
    key = fields.get("slug") or fields.get("code") or record.get("pk")
    return f"{record.get('model')} {key!r}" if key is not None else str(record.get("model"))


def check_record(record, allowed):
    """A record's shape, before Django reads it: an object with a curated model, a key and
    fields that the model has, each a value, a key (a list of values) or a list of keys."""
    if not isinstance(record, dict):
        raise CommandError('expected an object with "model" and "fields"')
    if unknown := sorted(map(str, record.keys() - RECORD_KEYS)):
        raise CommandError(f"unexpected {', '.join(unknown)}: a record has model, pk and fields")
    model = record.get("model")
    if not isinstance(model, str) or model not in allowed:
        raise CommandError(
            f"model {model!r} cannot be imported: this file may hold {', '.join(sorted(allowed))}"
        )
    opts = CURATED_MODELS[model]._meta
    if (pk := record.get("pk")) is not None:
        if isinstance(pk, bool) or not isinstance(pk, int | str):
            raise CommandError("pk: expected a whole number or a text")
        try:
            opts.pk.to_python(pk)
        except ValidationError as invalid:
            raise CommandError(f"pk: {' '.join(invalid.messages)}") from None
    fields = record.get("fields")
    if not isinstance(fields, dict):
        raise CommandError("fields: expected an object of field names and values")
    # The fields an export writes: not the id, not derived or machine data.
    exported = {f.name: f for f in [*opts.concrete_fields, *opts.many_to_many] if f.serialize}
    for name, value in fields.items():
        field = exported.get(name)
        if field is None:
            raise CommandError(f"{name}: no such field")
        if field.many_to_many:
            shape, fits = "a list of keys", isinstance(value, list) and all(map(is_key, value))
        elif field.many_to_one or field.one_to_one:
            shape, fits = "a key (a value or a list of values)", is_key(value)
        else:
            shape, fits = "a text, a number, true, false or null", isinstance(value, SCALARS)
        if not fits:
            raise CommandError(f"{name}: expected {shape}, not {json.dumps(value)[:60]}")


def is_key(value):
    return isinstance(value, SCALARS) or (
        isinstance(value, list) and all(isinstance(part, SCALARS) for part in value)
    )


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
        else:
            try:
                field.to_python(value)
            except ValidationError as invalid:
                return f"{name}: {' '.join(invalid.messages)}"
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
