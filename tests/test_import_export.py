"""Curated data round-trips through files: export is deterministic, import is all or nothing."""

import hashlib
import json
from pathlib import Path

import pytest
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count

from negotiations.curated import FIXTURE_FILES
from negotiations.history import TRACKED
from negotiations.models import (
    Citation,
    ContextFigure,
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

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent.parent / "fixtures"
EMPTYING_ORDER = [ContextFigure, Citation, Parameter, Version, Disagreement, Relation, Demand]
EMPTYING_ORDER += [Option, Section]
EMPTYING_ORDER += [Proposal, Source, Topic, Round, Party]


def snapshot():
    digest = hashlib.sha256()
    for model in TRACKED:
        rows = serializers.serialize(
            "json",
            model.objects.order_by("pk"),
            use_natural_foreign_keys=True,
            use_natural_primary_keys=True,
        )
        digest.update(rows.encode())
    return digest.hexdigest()


def test_export_of_an_unchanged_database_gives_the_committed_files_byte_for_byte(tmp_path):
    call_command("export_fixtures", dir=str(tmp_path), stdout=None)
    for name, _ in FIXTURE_FILES:
        assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes(), name


def test_import_twice_changes_nothing():
    before = snapshot()
    history_before = Demand.history.count()
    call_command("import_fixtures")
    assert snapshot() == before
    assert Demand.history.count() == history_before


def test_export_loaded_into_an_empty_database_reproduces_every_row(tmp_path):
    call_command("export_fixtures", dir=str(tmp_path))
    counts = {model: model.objects.count() for model in TRACKED}
    before = snapshot()
    # Empty the curated tables, children first (references to cited data are protected).
    for model in EMPTYING_ORDER:
        model.objects.all().delete()
    assert all(model.objects.count() == 0 for model in TRACKED)

    call_command("import_fixtures", *[str(tmp_path / name) for name, _ in FIXTURE_FILES])
    assert {model: model.objects.count() for model in TRACKED} == counts
    assert snapshot() == before


def write(tmp_path, records):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(records))
    return str(path)


def demand_record(**fields):
    record = json.loads((FIXTURES / "04_demands.json").read_text())[0]
    record["fields"] = {**record["fields"], "code": "RU-NEW-1", "order": 99, **fields}
    return record


def source_record(**fields):
    record = json.loads((FIXTURES / "02_sources.json").read_text())[0]
    record["fields"] = {**record["fields"], "slug": "a-new-source", **fields}
    return record


@pytest.mark.parametrize(
    ("records", "message"),
    [
        (
            [source_record(url="javascript:alert(1)")],
            "record 2 (negotiations.source 'a-new-source'): url: Enter a valid URL.",
        ),
        (
            [source_record(url="data:text/html,hi")],
            "record 2 (negotiations.source 'a-new-source'): url: Enter a valid URL.",
        ),
        (
            [demand_record(topic=["no-such-topic"])],
            "record 2 (negotiations.demand 'RU-NEW-1'): topic: no Topic with key ['no-such-topic']",
        ),
        (
            [demand_record(summary="")],
            "record 2 (negotiations.demand 'RU-NEW-1'): summary: This field cannot be blank.",
        ),
        (
            [source_record(), source_record(title="Another title")],
            "record 3 (negotiations.source 'a-new-source'): duplicate key ('a-new-source',): "
            "broken.json record 2 has it too",
        ),
    ],
    ids=["javascript-url", "data-url", "unknown-topic", "missing-summary", "duplicate-slug"],
)
def test_a_broken_file_names_the_record_and_field_and_changes_nothing(tmp_path, records, message):
    # A good record first, so the failure has something to roll back.
    good = source_record(slug="a-good-new-source")
    before = snapshot()
    with pytest.raises(CommandError) as error:
        call_command("import_fixtures", write(tmp_path, [good, *records]))
    assert str(error.value) == f"broken.json, {message}"
    assert snapshot() == before
    assert not Source.objects.filter(slug="a-good-new-source").exists()


def test_a_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(CommandError, match="cannot read it as JSON"):
        call_command("import_fixtures", str(path))


def test_imported_changes_are_recorded_in_the_history(tmp_path):
    records = json.loads((FIXTURES / "04_demands.json").read_text())
    records = [r for r in records if r["model"] == "negotiations.demand"][:1]
    records[0]["fields"]["summary"] = "A corrected summary"
    call_command("import_fixtures", write(tmp_path, records))
    demand = Demand.objects.get(code=records[0]["fields"]["code"])
    assert demand.summary == "A corrected summary"
    assert demand.history.first().history_change_reason == "Imported from broken.json"
    assert Citation.objects.filter(demand=demand).exists()


def test_an_imported_record_is_first_dated_when_it_was_curated_as_its_page_says(client, tmp_path):
    demand = Demand.objects.get(code="RU-I-4")
    [added] = demand.history.all()  # the change log dates a change by its history row
    assert added.history_date == demand.updated_at
    day = f"{demand.updated_at:%-d %B %Y}"
    page = client.get(demand.get_absolute_url()).content.decode()
    assert f'<dt>Last changed</dt><dd><time datetime="{demand.updated_at:%Y-%m-%d}">{day}' in page
    # A change to a stored record is dated now, after the revisions it follows.
    records = json.loads((FIXTURES / "04_demands.json").read_text())
    [record] = [r for r in records if r["fields"].get("code") == "RU-I-4"]
    record["fields"]["summary"] = "A corrected summary"
    call_command("import_fixtures", write(tmp_path, [record]))
    latest = demand.history.first()
    assert latest.history_change_reason == "Imported from broken.json"
    assert latest.history_date > added.history_date


def test_a_record_deleted_and_imported_again_is_dated_after_its_deletion():
    demand = Demand.objects.annotate(quotes=Count("citations")).filter(quotes__gt=1).first()
    citation = demand.citations.first()
    pk = citation.pk
    citation.delete()
    deleted = Citation.history.get(id=pk, history_type="-")
    call_command("import_fixtures", verbosity=0)
    back = Citation.history.filter(id=pk).order_by("-history_date", "-history_id")
    assert back[0].history_type == "+"
    assert back[0].history_date > deleted.history_date


def test_new_records_can_be_added_after_an_import():
    # Imported citations carry their ids; the id sequence must have moved past them.
    demand = Demand.objects.get(code="RU-I-4")
    citation = Citation.objects.create(
        demand=demand, source=Source.objects.first(), quote="A new quote", order=9
    )
    assert citation.pk > max(c.pk for c in Citation.objects.exclude(pk=citation.pk))
