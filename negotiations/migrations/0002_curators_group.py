"""The Curators group: add, change and view all curated content; delete all but sources."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT_MODELS = [
    "party",
    "round",
    "topic",
    "proposal",
    "section",
    "option",
    "demand",
    "parameter",
    "source",
    "citation",
    "relation",
    "disagreement",
    "version",
]
# A deleted source would orphan the citations that rely on it.
NOT_DELETABLE = {"source"}


def create_curators(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    app_config = apps.get_app_config("negotiations")
    app_config.models_module = True  # the migration state's stub lacks it
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [
        f"{action}_{model}"
        for model in CONTENT_MODELS
        for action in ("add", "change", "view", "delete")
        if not (action == "delete" and model in NOT_DELETABLE)
    ]
    group, _ = Group.objects.get_or_create(name="Curators")
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="negotiations", codename__in=codenames)
    )


def remove_curators(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Curators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("negotiations", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_curators, remove_curators)]
