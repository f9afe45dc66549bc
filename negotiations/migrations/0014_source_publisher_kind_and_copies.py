"""A source's kind is the kind of its publisher (official text, news agency, newspaper or
broadcaster, analysis, aggregator or mirror), whether a state runs it is a field of its own, and
a page read on another publisher's copy names that copy's publisher. Every row moves, its
history too, so every earlier version stays restorable; cached pages, whose links carry the
kind, are dropped."""

import negotiations.models
from django.db import migrations, models
from django.utils import timezone

# Each kind before, and the kind it becomes; state media become a state's news agency (RT, a
# broadcaster, is moved by the fixtures, which know it).
FORWARD = {
    "primary": "official",
    "state-media": "agency",
    "other-media": "newspaper",
    "think-tank": "analysis",
    "repost": "aggregator",
}
BACKWARD = {
    "official": "primary",
    "agency": "other-media",
    "newspaper": "other-media",
    "analysis": "think-tank",
    "aggregator": "repost",
}


def move(apps, mapping, state_before):
    """Rename every live and historical row's kind along `mapping`; `state_before` is the old
    value that stands for a state's publisher, on the side being moved from or to."""
    for name in ("Source", "HistoricalSource"):
        rows = apps.get_model("negotiations", name).objects
        if state_before in mapping:  # forward: the old value says "state"
            rows.filter(kind=state_before).update(state_media=True)
        else:  # backward: a state's publisher was "state media", whatever its kind
            rows.filter(state_media=True).update(kind="state-media")
        for old, new in mapping.items():
            rows.filter(kind=old).update(kind=new)
    versions = apps.get_model("negotiations", "DataVersion").objects
    versions.filter(pk=1).update(value=models.F("value") + 1, changed_at=timezone.now())


def forward(apps, schema_editor):
    move(apps, FORWARD, "state-media")


def backward(apps, schema_editor):
    move(apps, BACKWARD, "state-media")


class Migration(migrations.Migration):
    dependencies = [
        ("negotiations", "0013_sources_by_publisher_whatever_its_case"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalsource",
            name="copy_publisher",
            field=models.CharField(
                blank=True,
                default="",
                help_text='Where the page was read when it is another publisher\'s copy, e.g. "HK Business Wire" for a Reuters report; its address goes under the copy of the page.',
                max_length=100,
            ),
        ),
        migrations.AddField(
            model_name="historicalsource",
            name="short_name",
            field=models.CharField(
                blank=True,
                default="",
                help_text='The publisher as a citation marker names it, e.g. "ISW"; blank for the publisher\'s name.',
                max_length=30,
            ),
        ),
        migrations.AddField(
            model_name="historicalsource",
            name="state_media",
            field=models.BooleanField(
                default=False, help_text="Tick when the publisher is owned or run by a state."
            ),
        ),
        migrations.AddField(
            model_name="source",
            name="copy_publisher",
            field=models.CharField(
                blank=True,
                default="",
                help_text='Where the page was read when it is another publisher\'s copy, e.g. "HK Business Wire" for a Reuters report; its address goes under the copy of the page.',
                max_length=100,
            ),
        ),
        migrations.AddField(
            model_name="source",
            name="short_name",
            field=models.CharField(
                blank=True,
                default="",
                help_text='The publisher as a citation marker names it, e.g. "ISW"; blank for the publisher\'s name.',
                max_length=30,
            ),
        ),
        migrations.AddField(
            model_name="source",
            name="state_media",
            field=models.BooleanField(
                default=False, help_text="Tick when the publisher is owned or run by a state."
            ),
        ),
        migrations.AlterField(
            model_name="historicalsource",
            name="kind",
            field=models.CharField(
                choices=[
                    ("official", "Official text"),
                    ("agency", "News agency"),
                    ("newspaper", "Newspaper or broadcaster"),
                    ("analysis", "Analysis"),
                    ("aggregator", "Aggregator or mirror"),
                ],
                help_text="The publisher's kind.",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="historicalsource",
            name="publisher",
            field=models.CharField(
                help_text="Who wrote the page: the original publisher, also when it was read on a copy.",
                max_length=100,
            ),
        ),
        migrations.AlterField(
            model_name="historicalsource",
            name="url",
            field=negotiations.models.HttpURLField(
                blank=True,
                help_text="The page as its publisher published it (http or https), never a copy's address. Leave blank if no URL is known.",
                max_length=500,
            ),
        ),
        migrations.AlterField(
            model_name="source",
            name="kind",
            field=models.CharField(
                choices=[
                    ("official", "Official text"),
                    ("agency", "News agency"),
                    ("newspaper", "Newspaper or broadcaster"),
                    ("analysis", "Analysis"),
                    ("aggregator", "Aggregator or mirror"),
                ],
                help_text="The publisher's kind.",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="source",
            name="publisher",
            field=models.CharField(
                help_text="Who wrote the page: the original publisher, also when it was read on a copy.",
                max_length=100,
            ),
        ),
        migrations.AlterField(
            model_name="source",
            name="url",
            field=negotiations.models.HttpURLField(
                blank=True,
                help_text="The page as its publisher published it (http or https), never a copy's address. Leave blank if no URL is known.",
                max_length=500,
            ),
        ),
        migrations.RunPython(forward, backward),
        migrations.AddConstraint(
            model_name="source",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("copy_publisher", ""),
                    models.Q(("archived_url", ""), _negated=True),
                    _connector="OR",
                ),
                name="source_copy_has_address",
                violation_error_message="Give the address of the copy the page was read on (Copy of the page), or leave where it was read blank.",
            ),
        ),
    ]
