import json
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.management.base import BaseCommand
from django.core.serializers.json import DjangoJSONEncoder

from negotiations.curated import FIXTURE_FILES


class Command(BaseCommand):
    help = "Write the curated data back to fixtures/, byte for byte the same when nothing changed."

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(settings.FIXTURE_DIRS[0]))

    def handle(self, *args, dir, **options):
        directory = Path(dir)
        directory.mkdir(parents=True, exist_ok=True)
        for name, parts in FIXTURE_FILES:
            records = []
            for model, filters, ordering in parts:
                queryset = model.objects.filter(**filters).order_by(*ordering)
                records += serializers.serialize(
                    "python",
                    queryset,
                    use_natural_foreign_keys=True,
                    use_natural_primary_keys=True,
                )
            text = json.dumps(records, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
            path = directory / name
            changed = not path.exists() or path.read_text() != text + "\n"
            if changed:
                path.write_text(text + "\n")
            self.stdout.write(f"{path}: {len(records)} records{'' if changed else ', unchanged'}")
