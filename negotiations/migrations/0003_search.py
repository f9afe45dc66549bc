"""Full-text search on PostgreSQL: search vectors kept current by triggers, with GIN indexes.

The vectors are derived from curated text, so a trigger fills them on every insert and update,
whatever writes the row (admin, import, fixtures). SQLite has no such search; the columns stay
empty there and the search falls back to word matching.
"""

import django.contrib.postgres.search
from django.db import migrations

VECTORS = {
    "negotiations_demand": "setweight(to_tsvector('english', coalesce(NEW.code, '')), 'A')"
    " || setweight(to_tsvector('english', coalesce(NEW.summary, '')), 'A')"
    " || setweight(to_tsvector('english', coalesce(NEW.paraphrase, '')), 'B')",
    "negotiations_citation": "setweight(to_tsvector('english', coalesce(NEW.quote, '')), 'C')",
}


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, vector in VECTORS.items():
        # Table names and expressions are this migration's own constants, never input.
        schema_editor.execute(
            f"""
            CREATE FUNCTION {table}_search() RETURNS trigger AS $$
            BEGIN
                NEW.search_vector := {vector};
                RETURN NEW;
            END
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER {table}_search BEFORE INSERT OR UPDATE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {table}_search();
            CREATE INDEX {table}_search_idx ON {table} USING gin (search_vector);
            UPDATE {table} SET search_vector = NULL;
            """  # nosec B608
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in VECTORS:
        schema_editor.execute(
            f"""
            DROP INDEX IF EXISTS {table}_search_idx;
            DROP TRIGGER IF EXISTS {table}_search ON {table};
            DROP FUNCTION IF EXISTS {table}_search();
            """
        )


class Migration(migrations.Migration):

    dependencies = [
        ('negotiations', '0002_curators_group'),
    ]

    operations = [
        migrations.AddField(
            model_name='citation',
            name='search_vector',
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True, serialize=False),
        ),
        migrations.AddField(
            model_name='demand',
            name='search_vector',
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True, serialize=False),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
