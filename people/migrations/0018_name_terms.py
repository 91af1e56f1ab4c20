"""The words of people's names, for the search's similar-name fallback.

A name search that finds nobody ("jonh smiht") corrects its words against the words that
people's names have ("john", "smith") and shows the people of the closest spelling. The
words are a table of their own, a few hundred thousand rows at most even for millions of
people, so that the trigram comparison runs over distinct words, not over every person.

PostgreSQL keeps it:

- ``term`` compares in code point order (COLLATE "C"): its primary key answers "is any word
  spelled starting with this?" as a range, like the name indexes of 0002.
- A GIN trigram index on ``term`` (pg_trgm, when 0016 could create it) finds the words
  similar to a typed one.
- A trigger adds the words of every name written to people_person (created, or renamed),
  whatever writes it: the services, admin, a bulk load. Words are only added (a word already
  there costs a look in the primary key); ``manage.py prune_name_terms`` takes out the words
  no name has any more.

Elsewhere the table stays empty and the search has no similar-name fallback.
"""

from django.db import migrations, models

# In word order: two transactions adding the same two new words wait for each other in the
# same order, never in a circle.
ADD_WORDS = """
    INSERT INTO people_nameterm (term)
    SELECT DISTINCT word FROM unnest(string_to_array(NEW.search_name, ' ')) AS word
    WHERE word <> '' ORDER BY word
    ON CONFLICT DO NOTHING;
"""
FILL = (
    "INSERT INTO people_nameterm (term)"
    " SELECT DISTINCT word FROM people_person, unnest(string_to_array(search_name, ' ')) AS word"
    " WHERE word <> '' ON CONFLICT DO NOTHING"
)
TRIGGERS = [
    ("person_name_terms_created", "INSERT", "NEW.search_name <> ''"),
    (
        "person_name_terms_renamed",
        "UPDATE OF search_name",
        "NEW.search_name <> '' AND NEW.search_name IS DISTINCT FROM OLD.search_name",
    ),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        'ALTER TABLE people_nameterm ALTER COLUMN term TYPE varchar(520) COLLATE "C"'
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        trigram = cursor.fetchone() is not None
    if trigram:
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS name_term_trgm_idx ON people_nameterm"
            " USING gin (term gin_trgm_ops)"
        )
    schema_editor.execute(
        "CREATE FUNCTION people_name_terms_add() RETURNS trigger"
        f" LANGUAGE plpgsql AS $$ BEGIN {ADD_WORDS} RETURN NULL; END $$"
    )
    for name, event, condition in TRIGGERS:
        schema_editor.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON people_person"
            f" FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION people_name_terms_add()"
        )
    schema_editor.execute(FILL)
    schema_editor.execute("ANALYZE people_nameterm")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, *_ in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON people_person")
    schema_editor.execute("DROP FUNCTION IF EXISTS people_name_terms_add()")


class Migration(migrations.Migration):
    dependencies = [("people", "0017_city_trigram_index")]

    operations = [
        migrations.CreateModel(
            name="NameTerm",
            fields=[
                ("term", models.CharField(max_length=520, primary_key=True, serialize=False)),
            ],
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
