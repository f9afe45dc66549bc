"""No write path bypasses the history: bulk writes live in one helper that records history too."""

import re
from pathlib import Path

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
