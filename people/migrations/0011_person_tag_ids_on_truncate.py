"""A TRUNCATE of people_person_tags empties every person's tag_ids (migration 0010's triggers
see rows inserted, deleted and updated, not a TRUNCATE, which fires no row-level events).

PostgreSQL only, as 0010.
"""

from django.db import migrations

BODY = "UPDATE people_person SET tag_ids = '{}' WHERE tag_ids <> '{}';"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE FUNCTION people_person_tag_ids_truncated() RETURNS trigger"
        f" LANGUAGE plpgsql AS $$ BEGIN {BODY} RETURN NULL; END $$"
    )
    schema_editor.execute(
        "CREATE TRIGGER person_tags_truncated AFTER TRUNCATE ON people_person_tags"
        " FOR EACH STATEMENT EXECUTE FUNCTION people_person_tag_ids_truncated()"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS person_tags_truncated ON people_person_tags")
    schema_editor.execute("DROP FUNCTION IF EXISTS people_person_tag_ids_truncated()")


class Migration(migrations.Migration):
    dependencies = [("people", "0010_person_tag_ids")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
