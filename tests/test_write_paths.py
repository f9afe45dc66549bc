"""No write path bypasses the history: bulk writes live in one helper that records history too."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from negotiations.changelog import TRACKED, recent_changes
from negotiations.models import Demand

PACKAGE = Path(__file__).parent.parent / "negotiations"
# The change log's one bulk writer, and the cache's version counter, which is no curated data.
ALLOWED = {PACKAGE / "changelog.py", PACKAGE / "dataversion.py"}
# Queryset writes that skip Model.save()/delete(), and so skip the history.
BYPASS = re.compile(
    r"\.(bulk_create|bulk_update|_raw_delete)\(|\.update\(\s*\w+\s*=|"
    r"(objects|filter\([^)]*\)|all\(\)|exclude\([^)]*\))\.(update|delete)\("
)


def code_files():
    for path in PACKAGE.rglob("*.py"):
        if "migrations" not in path.parts and path not in ALLOWED:
            yield path


def test_the_pattern_catches_what_it_should():
    for line in [
        "Demand.objects.update(summary='x')",
        "Demand.objects.filter(code='x').update(status='y')",
        "Source.objects.filter(kind='x').delete()",
        "Citation.objects.all().delete()",
        "Demand.objects.bulk_create(items)",
        "Demand.objects.bulk_update(items, ['summary'])",
    ]:
        assert BYPASS.search(line), line
    for line in ["demand.delete()", "data.update(changes)", "demand.save()"]:
        assert not BYPASS.search(line), line


def test_no_code_writes_past_the_history():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in code_files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if BYPASS.search(line)
    ]
    assert offenders == []


@pytest.mark.django_db
def test_every_row_written_in_bulk_has_a_revision_holding_its_links(tenfold_data):
    call_command("generate_synthetic", scale=1)
    for model in TRACKED:
        unrecorded = model.objects.exclude(pk__in=model.history.values("id"))
        assert not unrecorded.exists(), model
    copy = Demand.objects.filter(secondary_topics__isnull=False, code__endswith="-x1").first()
    first = copy.history.get(history_type="+")
    assert set(first.secondary_topics.values_list("topic_id", flat=True)) == set(
        copy.secondary_topics.values_list("pk", flat=True)
    )
    assert [entry["record"].history_change_reason for entry in recent_changes(1)] == [
        "Synthetic data for scale tests"
    ]
