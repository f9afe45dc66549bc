"""Curated data round-trips through files: export is deterministic, import is all or nothing."""

import hashlib
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count

from negotiations.changelog import TRACKED
from negotiations.curated import FIXTURE_FILES
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
    with pytest.raises(CommandError, match=r"^bad\.json: cannot read it as JSON"):
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


USER = {
    "model": "auth.user",
    "fields": {"username": "intruder", "password": "x", "is_superuser": True, "is_staff": True},
}
GROUP = {"model": "auth.group", "fields": {"name": "Curators", "permissions": []}}
CURATED = "negotiations.citation, negotiations.demand"


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([USER], "record 2 (auth.user): model 'auth.user' cannot be imported: this file may hold"),
        ([GROUP], "record 2 (auth.group): model 'auth.group' cannot be imported"),
        (
            [{**USER, "model": "negotiations.dataversion"}],
            "record 2 (negotiations.dataversion): model 'negotiations.dataversion' cannot be",
        ),
        ([42], 'record 2 (not a record): expected an object with "model" and "fields"'),
        (
            [{"model": "negotiations.topic", "fields": "oops"}],
            "record 2 (negotiations.topic): fields: expected an object of field names and values",
        ),
        ([{"fields": {"slug": "x"}}], "record 2 (None 'x'): model None cannot be imported"),
        (
            [{"model": ["negotiations.topic"], "fields": {}}],
            "record 2 (['negotiations.topic']): model ['negotiations.topic'] cannot be imported",
        ),
        (
            [{"model": "negotiations.topic", "fields": {}, "extra": 1}],
            "record 2 (negotiations.topic): unexpected extra: a record has model, pk and fields",
        ),
        (
            [{"model": "negotiations.citation", "pk": [1], "fields": {}}],
            "record 2 (negotiations.citation [1]): pk: expected a whole number or a text",
        ),
        (
            [{"model": "negotiations.citation", "pk": 1.5, "fields": {}}],
            "record 2 (negotiations.citation 1.5): pk: expected a whole number or a text",
        ),
        (
            [{"model": "negotiations.citation", "pk": "abc", "fields": {}}],
            "record 2 (negotiations.citation 'abc'): pk: “abc” value must be an integer.",
        ),
        (
            [demand_record(colour="red")],
            "record 2 (negotiations.demand 'RU-NEW-1'): colour: no such field",
        ),
        (
            [demand_record(search_vector="x")],
            "record 2 (negotiations.demand 'RU-NEW-1'): search_vector: no such field",
        ),
        (
            [demand_record(summary={"nested": [[[["deep"]]]]})],
            "record 2 (negotiations.demand 'RU-NEW-1'): summary: expected a text, a number, "
            'true, false or null, not {"nested": [[[["deep"]]]]}',
        ),
        (
            [demand_record(topic=[["ceasefire"]])],
            "record 2 (negotiations.demand 'RU-NEW-1'): topic: expected a key (a value or a list "
            'of values), not [["ceasefire"]]',
        ),
        (
            [demand_record(secondary_topics="ceasefire")],
            "record 2 (negotiations.demand 'RU-NEW-1'): secondary_topics: expected a list of "
            'keys, not "ceasefire"',
        ),
        (
            [demand_record(secondary_topics=[["no-such-topic"]])],
            "record 2 (negotiations.demand 'RU-NEW-1'): secondary_topics: no Topic with key "
            "['no-such-topic']",
        ),
        (
            [demand_record(section=["ru-memorandum"])],
            "record 2 (negotiations.demand 'RU-NEW-1'): section: no Section with key "
            "['ru-memorandum']",
        ),
        (
            [demand_record(topic=["ceasefire", "extra", "parts"])],
            "record 2 (negotiations.demand 'RU-NEW-1'): topic: no Topic with key "
            "['ceasefire', 'extra', 'parts']",
        ),
        (
            [demand_record(order="first")],
            "record 2 (negotiations.demand 'RU-NEW-1'): order: “first” value must be an integer.",
        ),
        (
            [demand_record(order=10**30)],
            "record 2 (negotiations.demand 'RU-NEW-1'): order: Ensure this value is less than",
        ),
        (
            [demand_record(summary="Typo\x0c fixed")],
            "record 2 (negotiations.demand 'RU-NEW-1'): summary: Remove the invisible control "
            "character U+000C at character 5",
        ),
        (
            [demand_record(summary="NUL\x00")],
            "record 2 (negotiations.demand 'RU-NEW-1'): summary: Remove the invisible control "
            "character U+0000 at character 4",
        ),
        (
            [demand_record(summary="half a pair \ud800")],
            "record 2 (negotiations.demand 'RU-NEW-1'): summary: Remove the invisible control "
            "character U+D800 at character 13",
        ),
    ],
    ids=[
        "auth-user",
        "auth-group",
        "uncurated-model",
        "a-number",
        "fields-not-an-object",
        "no-model",
        "model-not-a-name",
        "unknown-key",
        "pk-a-list",
        "pk-a-fraction",
        "pk-not-a-number",
        "unknown-field",
        "derived-field",
        "nested-value",
        "nested-key",
        "links-not-a-list",
        "unknown-link",
        "short-natural-key",
        "long-natural-key",
        "order-not-a-number",
        "order-too-large",
        "control-character",
        "nul",
        "lone-surrogate",
    ],
)
def test_a_malformed_record_names_file_record_and_field_and_changes_nothing(
    tmp_path, records, message
):
    # A good record first: the whole file is one transaction, rolled back whole.
    good = source_record(slug="a-good-new-source")
    users, groups = User.objects.count(), list(Group.objects.values_list("name", flat=True))
    with pytest.raises(CommandError) as error:
        call_command("import_fixtures", write(tmp_path, [good, *records]))
    assert str(error.value).startswith(f"broken.json, {message}"), str(error.value)
    assert not Source.objects.filter(slug="a-good-new-source").exists()
    assert not Source.history.filter(slug="a-good-new-source").exists()
    assert User.objects.count() == users
    assert list(Group.objects.values_list("name", flat=True)) == groups


def test_a_file_of_the_manifest_holds_only_its_own_models(tmp_path):
    path = tmp_path / "01_reference.json"
    path.write_text(json.dumps([demand_record()]))
    with pytest.raises(CommandError) as error:
        call_command("import_fixtures", str(path))
    assert str(error.value) == (
        "01_reference.json, record 1 (negotiations.demand 'RU-NEW-1'): model "
        "'negotiations.demand' cannot be imported: this file may hold negotiations.party, "
        "negotiations.round, negotiations.topic"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 10_000 + "]" * 10_000, "bad.json: nested too deeply to be a fixture file"),
        ("{not json", "bad.json: cannot read it as JSON: Expecting property name"),
        ('{"model": "negotiations.topic"}', "bad.json: expected a list of records"),
        (b"[\xff]", "bad.json: cannot read it as JSON: 'utf-8' codec can't decode"),
    ],
    ids=["deeply-nested", "invalid", "not-a-list", "not-utf-8"],
)
def test_a_file_that_is_no_list_of_records_is_refused_in_words(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    before = snapshot()
    with pytest.raises(CommandError) as error:
        call_command("import_fixtures", str(path))
    assert str(error.value).startswith(message), str(error.value)
    assert snapshot() == before


def test_a_broken_second_file_leaves_the_first_one_unloaded(tmp_path):
    first = tmp_path / "first.json"
    first.write_text(json.dumps([source_record(slug="a-good-new-source")]))
    second = tmp_path / "second.json"
    second.write_text(json.dumps([USER]))
    with pytest.raises(CommandError, match=r"^second\.json, record 1 \(auth\.user\)"):
        call_command("import_fixtures", str(first), str(second))
    assert not Source.objects.filter(slug="a-good-new-source").exists()
    assert not User.objects.filter(username="intruder").exists()
