"""A backup restored into an empty database has the same rows, using the README's commands."""

import hashlib
import os
import shutil
import sqlite3
import subprocess

import pytest
from django.db import connection

from negotiations.changelog import TRACKED

pytestmark = [pytest.mark.backup, pytest.mark.django_db]

TABLES = [model._meta.db_table for model in TRACKED] + [
    m.history.model._meta.db_table for m in TRACKED
]


def fingerprint(cursor):
    """Row counts and a content hash of every curated table and its history."""
    counts, digest = {}, hashlib.sha256()
    for table in TABLES:
        cursor.execute(f'SELECT * FROM "{table}" ORDER BY 1')
        rows = cursor.fetchall()
        counts[table] = len(rows)
        digest.update(repr(rows).encode())
    return counts, digest.hexdigest()


def test_a_backup_restored_into_an_empty_database_has_every_row(tmp_path):
    backup_and_restore = {"sqlite": sqlite_backup, "postgresql": pg_dump_and_restore}
    backup_and_restore[connection.vendor](tmp_path)


def sqlite_backup(tmp_path):
    # What `sqlite3 db.sqlite3 ".backup backup.sqlite3"` does. The test holds its database in
    # a transaction that took the write lock at once (saves BEGIN IMMEDIATE), which the online
    # backup API waits on for ever from the same connection; so the pages are copied with
    # serialize(), then written to a file with the backup API, as the command writes them.
    connection.ensure_connection()
    pages = sqlite3.connect(":memory:")
    pages.deserialize(connection.connection.serialize())
    target = sqlite3.connect(tmp_path / "backup.sqlite3")
    pages.backup(target)
    target.close()
    # Read it back the way Django reads its own connection, so values compare alike.
    restored = sqlite3.connect(
        tmp_path / "backup.sqlite3", detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES
    )
    with connection.cursor() as cursor:
        original = fingerprint(cursor)
    assert original[0]["negotiations_demand"] > 0
    assert fingerprint(restored.cursor()) == original


def pg_dump_and_restore(tmp_path):
    import psycopg

    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is needed: install Debian's postgresql-client")
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""}
    common = ["-h", settings["HOST"] or "127.0.0.1", "-p", str(settings["PORT"] or 5432)]
    common += ["-U", settings["USER"]]
    dump = tmp_path / "negotiations.dump"
    restored_name = f"{settings['NAME']}_restore_check"
    subprocess.run(
        ["pg_dump", *common, "--format=custom", f"--file={dump}", settings["NAME"]],
        check=True,
        env=env,
    )
    subprocess.run(["dropdb", *common, "--if-exists", restored_name], check=True, env=env)
    subprocess.run(["createdb", *common, restored_name], check=True, env=env)
    try:
        subprocess.run(
            ["pg_restore", *common, "--no-owner", f"--dbname={restored_name}", str(dump)],
            check=True,
            env=env,
        )
        with connection.cursor() as cursor:
            original = fingerprint(cursor)
        dsn = {
            k: v
            for k, v in {
                "host": common[1],
                "port": common[3],
                "user": settings["USER"],
                "password": settings["PASSWORD"],
                "dbname": restored_name,
            }.items()
            if v
        }
        # Django reads in UTC; read the copy the same way so values compare alike.
        with psycopg.connect(**dsn, options="-c timezone=UTC") as restored:
            assert fingerprint(restored.cursor()) == original
        assert original[0]["negotiations_demand"] > 0
    finally:
        subprocess.run(["dropdb", *common, "--if-exists", restored_name], check=True, env=env)
