"""The data's version: a number every change to curated data bumps, which keys the page cache."""

import datetime

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils import timezone

from negotiations.changelog import TRACKED
from negotiations.models import DataVersion, Demand, Disagreement, Relation


def data_version():
    """(number, time) of the latest change to curated data; (0, None) before any.

    Every page request reads it, cached or not, so it is one fixed statement: building it
    through the ORM took half the time of serving a cached page.
    """
    with connection.cursor() as cursor:
        table = DataVersion._meta.db_table  # the model's own table name, never input
        cursor.execute(f"SELECT value, changed_at FROM {table} WHERE id = 1")  # nosec B608
        row = cursor.fetchone()
    if row is None:
        return 0, None
    value, changed_at = row
    if changed_at is not None and timezone.is_naive(changed_at):  # SQLite stores UTC, zoneless
        changed_at = timezone.make_aware(changed_at, datetime.UTC)
    return value, changed_at


def bump_data_version(**kwargs):
    """Receiver for every save, delete and relation change of curated data (reverts too)."""
    now = timezone.now()
    if not DataVersion.objects.filter(pk=1).update(value=F("value") + 1, changed_at=now):
        DataVersion.objects.create(pk=1, value=1, changed_at=now)


def bump_for_names(sender, instance, **kwargs):
    """Receiver for a user's save (pre_save): the change log names each change's author, so a
    new name changes pages. Nothing else about a user shows: a login, a password or a new user
    leaves the data's version (and its date, which pages cite) as it was."""
    update_fields = kwargs.get("update_fields")
    if instance.pk is None or (update_fields and not {"first_name", "last_name"} & update_fields):
        return  # a login saves only last_login: no query for it
    stored = sender.objects.filter(pk=instance.pk).values_list("first_name", "last_name").first()
    if stored is not None and stored != (instance.first_name, instance.last_name):
        bump_data_version()


def connect_signals():
    for model in TRACKED:
        post_save.connect(bump_data_version, sender=model, dispatch_uid=f"version-save-{model}")
        post_delete.connect(bump_data_version, sender=model, dispatch_uid=f"version-del-{model}")
    pre_save.connect(bump_for_names, sender=get_user_model(), dispatch_uid="version-user")
    for through in (
        Demand.secondary_topics.through,
        Relation.demands.through,
        Disagreement.demands.through,
    ):
        m2m_changed.connect(
            bump_data_version, sender=through, dispatch_uid=f"version-m2m-{through}"
        )
