"""Configuration comes from the environment, and a bad value names its variable."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_with(**env):
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_DEBUG", "yes"),
        ("DATABASE_URL", "mysql://localhost/x"),
        ("DATABASE_URL", "nonsense"),
    ],
)
def test_a_bad_value_fails_at_start_naming_the_variable(variable, value):
    result = start_with(**{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr


def test_secret_key_is_required_when_debug_is_off():
    result = start_with(DJANGO_DEBUG="False", DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_values_are_accepted():
    result = start_with(
        DJANGO_DEBUG="False",
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_ALLOWED_HOSTS="example.org",
    )
    assert result.returncode == 0, result.stderr


def database_options(url):
    script = "from django.db import connection; print(connection.settings_dict['OPTIONS'])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after what the shell imported


def test_sqlite_transactions_take_the_write_lock_at_once_and_wait_for_it():
    # See test_stale_edits for ten simultaneous saves on SQLite.
    options = database_options("sqlite:///db.sqlite3")
    assert options == "{'transaction_mode': 'IMMEDIATE', 'timeout': 20}"
    assert "transaction_mode" not in database_options("postgres://user@localhost:5432/x")
