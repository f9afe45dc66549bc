from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from negotiations.curated import FIXTURE_FILES, records, to_json


class Command(BaseCommand):
    help = "Write the curated data back to fixtures/, byte for byte the same when nothing changed."

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(settings.FIXTURE_DIRS[0]))

    def handle(self, *args, dir, **options):
        directory = Path(dir)
        directory.mkdir(parents=True, exist_ok=True)
        for name, parts in FIXTURE_FILES:
            data = records(parts)
            text = to_json(data)
            path = directory / name
            changed = not path.exists() or path.read_text() != text
            if changed:
                path.write_text(text)
            self.stdout.write(f"{path}: {len(data)} records{'' if changed else ', unchanged'}")
