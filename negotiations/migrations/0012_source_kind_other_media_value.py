"""A source kind's value follows its label: "other-media", not "independent", which said of
Pravda.ru or Topcor what no source shows. Its history is renamed with it, so every earlier
version stays restorable, and cached pages, whose links carry the value, are dropped."""

from django.db import migrations, models
from django.utils import timezone

KINDS = [
    ("primary", "Primary text"),
    ("state-media", "State media"),
    ("other-media", "Other media"),
    ("think-tank", "Think tank"),
    ("repost", "Repost / aggregator"),
]


def rename(old, new):
    def run(apps, schema_editor):
        for name in ("Source", "HistoricalSource"):
            apps.get_model("negotiations", name).objects.filter(kind=old).update(kind=new)
        versions = apps.get_model("negotiations", "DataVersion").objects
        versions.filter(pk=1).update(value=models.F("value") + 1, changed_at=timezone.now())

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("negotiations", "0011_small_numbers_fit_postgresql"),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalsource",
            name="kind",
            field=models.CharField(choices=KINDS, max_length=20),
        ),
        migrations.AlterField(
            model_name="source",
            name="kind",
            field=models.CharField(choices=KINDS, max_length=20),
        ),
        migrations.RunPython(
            rename("independent", "other-media"), rename("other-media", "independent")
        ),
    ]
