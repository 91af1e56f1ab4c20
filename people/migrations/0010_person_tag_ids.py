"""Each person's tag ids on the person's row, kept by the database, held by the walk indexes.

A tag beside a name prefix or beside custom attributes was a probe of the tag's index for
every person walked, or a read of every one of the tag's people by primary key (4,400 lookups
for "Mar" and a tag of 4,400 people), or an intersection of the tag's people with the name
range. With ``people_person.tag_ids`` in the indexes that are walked (the operator's folded
names, the API's (created_at, id) and UPPER(first/last name)), the tag is tested on the index
entry itself: an index-only walk or range.

``tag_ids`` is not a model field. ``people_person_tags`` stays the one record of who has which
tag; three statement triggers on it keep ``tag_ids`` equal to the person's rows there, whatever
writes them (the services, admin, a bulk load, a cascade). They add to and remove from the
row's current value, so two transactions tagging the same person both count.

PostgreSQL only (as 0002); elsewhere the search probes people_person_tags as before.
"""

from django.db import migrations

# Add the rows' tags to their people, and take them off (the row's current value: a concurrent
# change of the same person is re-read before the update).
ADD = """
    UPDATE people_person AS p
    SET tag_ids = ARRAY(SELECT DISTINCT t FROM unnest(p.tag_ids || added.ids) AS t ORDER BY t)
    FROM (SELECT person_id, array_agg(tag_id) AS ids FROM added_links GROUP BY person_id)
        AS added
    WHERE p.id = added.person_id AND NOT p.tag_ids @> added.ids;
"""
REMOVE = """
    UPDATE people_person AS p
    SET tag_ids = ARRAY(SELECT t FROM unnest(p.tag_ids) AS t WHERE t <> ALL (removed.ids) ORDER BY t)
    FROM (SELECT person_id, array_agg(tag_id) AS ids FROM removed_links GROUP BY person_id)
        AS removed
    WHERE p.id = removed.person_id AND p.tag_ids && removed.ids;
"""
# (trigger, event, transition tables, what the function does)
TRIGGERS = [
    ("added", "INSERT", "NEW TABLE AS added_links", ADD),
    ("removed", "DELETE", "OLD TABLE AS removed_links", REMOVE),
    ("changed", "UPDATE", "OLD TABLE AS removed_links NEW TABLE AS added_links", REMOVE + ADD),
]


def _create_triggers(schema_editor) -> None:
    # One statement per execute (a statement with parameters cannot hold several).
    for name, event, tables, body in TRIGGERS:
        schema_editor.execute(
            f"CREATE FUNCTION people_person_tag_ids_{name}() RETURNS trigger"
            f" LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"
        )
        schema_editor.execute(
            f"CREATE TRIGGER person_tags_{name} AFTER {event} ON people_person_tags"
            f" REFERENCING {tables}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION people_person_tag_ids_{name}()"
        )


def _drop_triggers(schema_editor) -> None:
    for name, *_ in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS person_tags_{name} ON people_person_tags")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS people_person_tag_ids_{name}()")


# (name, columns, INCLUDE with tag_ids, INCLUDE before): the indexes the search walks.
INDEXES = [
    ("person_search_name_c_idx", '(search_name COLLATE "C"), id', "tag_ids", ""),
    (
        "person_search_name_rev_c_idx",
        '(search_name_reversed COLLATE "C"), id',
        "search_name, tag_ids",
        "search_name",
    ),
    ("person_created_idx", "created_at, id", "tag_ids", ""),
    *(
        (
            f"person_{column}_upper_idx",
            f"UPPER({column}::text) text_pattern_ops",
            f"id, {column}, created_at, tag_ids",
            f"id, {column}, created_at",
        )
        for column in ("first_name", "last_name")
    ),
]


def _indexes(schema_editor, *, with_tags: bool) -> None:
    for name, columns, with_tag_ids, before in INDEXES:
        include = with_tag_ids if with_tags else before
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute(
            f"CREATE INDEX {name} ON people_person ({columns})"
            + (f" INCLUDE ({include})" if include else "")
        )


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE people_person ADD COLUMN tag_ids bigint[] NOT NULL DEFAULT '{}'"
    )
    schema_editor.execute(
        "UPDATE people_person AS p SET tag_ids = links.ids FROM ("
        " SELECT person_id, array_agg(tag_id ORDER BY tag_id) AS ids"
        " FROM people_person_tags GROUP BY person_id) AS links"
        " WHERE p.id = links.person_id"
    )
    _create_triggers(schema_editor)
    _indexes(schema_editor, with_tags=True)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _drop_triggers(schema_editor)
    _indexes(schema_editor, with_tags=False)
    schema_editor.execute("ALTER TABLE people_person DROP COLUMN tag_ids")


class Migration(migrations.Migration):
    dependencies = [("people", "0009_name_prefix_indexes_cover_created_at")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
