"""Fill PostgreSQL with a realistic data set at scale, for search tuning and the benchmark.

    python manage.py generate_people --persons 1000000 [--seed 7] [--reset]

What the data set holds is directory.generation's; this command creates the small tables
through the services, loads the chunks with COPY (psycopg 3) while a second thread builds the
next one, and vacuums at the end.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from directory.generation import APPLICATIONS, DEFINITIONS, TAGS, Chunk, Counters, DataSet
from installations.applications import application_create
from installations.models import Application, Installation
from people import name_terms, services
from people.models import (
    AttributeDefinition,
    AttributeValue,
    ContactIdentity,
    Event,
    Person,
    Tag,
)
from people.name_keys import name_key

CHUNK = 20_000
# How long the final VACUUM waits for transactions that began during the load (an automatic
# ANALYZE, say) before it runs anyway.
SNAPSHOT_WAIT_SECONDS = 300


class Command(BaseCommand):
    help = "Fill PostgreSQL with N realistic people (COPY, about a minute per 150,000 people)."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, required=True, help="how many people")
        parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="delete every person, installation, tag and history event first",
        )
        parser.add_argument(
            "--no-vacuum", action="store_true", help="skip VACUUM ANALYZE at the end"
        )

    def handle(self, *args, persons: int, seed: int, reset: bool, no_vacuum: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("generate_people needs PostgreSQL (it loads rows with COPY).")
        if persons < 1:
            raise CommandError("--persons must be at least 1.")
        started = time.monotonic()
        if reset:
            self.reset()
        elif Person.objects.exists():
            raise CommandError(
                "There are people in this database already; use --reset to replace them."
            )
        applications, tag_ids, definitions = self.reference_rows()
        counters = Counters(
            person=_next_id(Person),
            installation=_next_id(Installation),
            identity=_next_id(ContactIdentity),
            tag_link=_next_id(Person.tags.through),
            value=_next_id(AttributeValue),
            event=_next_id(Event),
        )
        data = DataSet(
            seed=seed,
            total=persons,
            counters=counters,
            applications=applications,
            tag_ids=tag_ids,
            definitions=definitions,
            now=dt.datetime.now(dt.UTC).replace(microsecond=0),
        )
        # Rows are checked by construction; RI triggers per row would double the load time.
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            try:
                with transaction.atomic():
                    cursor.execute("SET session_replication_role = replica")
                replica = True
            except Exception:
                replica = False
        self.stdout.write(
            f"Generating {persons:,} people (seed {seed}, chunks of {CHUNK:,}"
            f"{', foreign-key triggers off during COPY' if replica else ''})"
        )
        chunks: queue.Queue[Chunk | BaseException | None] = queue.Queue(maxsize=2)

        def produce() -> None:
            try:
                done = 0
                while done < persons:
                    count = min(CHUNK, persons - done)
                    chunks.put(data.chunk(count))
                    done += count
                chunks.put(None)
            except BaseException as exc:  # handed to the main thread, which raises it
                chunks.put(exc)

        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        loaded = 0
        rows = 0
        raw = connection.connection
        try:
            while True:
                item = chunks.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                with transaction.atomic(), raw.cursor() as cursor:
                    for table, columns, text in item.tables:
                        if not text:
                            continue
                        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                            copy.write(text)
                        rows += text.count("\n")
                loaded += item.persons
                elapsed = time.monotonic() - started
                left = elapsed / loaded * (persons - loaded)
                self.stdout.write(
                    f"  {loaded:>10,} / {persons:,} people ({loaded * 100 // persons:3d}%), "
                    f"{rows:,} rows, {elapsed:6.1f} s, about {left:5.0f} s left"
                )
                self.stdout.flush()
        finally:
            # The connection may go on serving (the bench measures writes on it next).
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO DEFAULT")
                cursor.execute("SET session_replication_role = DEFAULT") if replica else None
        producer.join()
        self.finish(no_vacuum)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"Generated {persons:,} people, {rows:,} rows in {elapsed:.1f} s")
        )

    def reset(self) -> None:
        self.stdout.write("Deleting people, installations, tags and events ...")
        with connection.cursor() as cursor:
            # With the tables that name people: the duplicates found and dismissed.
            cursor.execute(
                "TRUNCATE people_event, people_attributevalue, people_person_tags, "
                "people_contactidentity, installations_installation, people_person, "
                "people_nameterm, people_duplicatepair, people_notduplicate"
            )

    def reference_rows(self):
        """Applications, tags and definitions: few rows, made through the services."""
        applications = {}
        for code, name, os_name in APPLICATIONS:
            app = Application.objects.filter(code=code).first()
            if app is None:
                app = application_create(name=name, code=code)
            applications[code] = (app.pk, os_name)
        existing = dict(Tag.objects.values_list("name_key", "id"))
        tag_ids = []
        for name in TAGS:
            pk = existing.get(name_key(name))
            if pk is None:
                pk = services.tag_create(name=name).pk
            tag_ids.append(pk)
        definitions = {}
        for name, data_type, schema in DEFINITIONS:
            definition = AttributeDefinition.objects.filter(name_key=name_key(name)).first()
            if definition is None:
                definition = services.attribute_definition_create(
                    name=name, data_type=data_type, object_schema=schema
                )
            elif definition.data_type != data_type:
                raise CommandError(f"Custom attribute {name!r} exists with another type.")
            definitions[name] = definition
        return applications, tag_ids, definitions

    def finish(self, no_vacuum: bool) -> None:
        tables = [
            Person,
            Installation,
            ContactIdentity,
            Person.tags.through,
            AttributeValue,
            Event,
        ]
        # The words of the names, which the trigger did not add with triggers off.
        started = time.monotonic()
        name_terms.fill()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE people_nameterm")
        self.stdout.write(f"  words of the names ({time.monotonic() - started:.1f} s)")
        with connection.cursor() as cursor:
            for model in tables:
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            if not no_vacuum:
                self.wait_for_older_snapshots(cursor)
            for model in tables:
                table = model._meta.db_table
                started = time.monotonic()
                cursor.execute(f"{'ANALYZE' if no_vacuum else 'VACUUM (ANALYZE)'} {table}")
                self.stdout.write(
                    f"  {'analyzed' if no_vacuum else 'vacuumed'} {table} "
                    f"({time.monotonic() - started:.1f} s)"
                )
            if not no_vacuum:
                self.vacuum_until_visible(cursor, [model._meta.db_table for model in tables])

    def vacuum_until_visible(self, cursor, tables: list[str], attempts: int = 5) -> None:
        """VACUUM again the tables with pages not yet marked all-visible.

        Index-only scans (the search's tag and name walks) read the table for every row on an
        unmarked page. Right after the load's last commit a VACUUM may leave that commit's
        pages unmarked; a second pass a moment later marks them.
        """
        for attempt in range(attempts + 1):
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relallvisible < relpages",
                [tables],
            )
            unmarked = [name for (name,) in cursor.fetchall()]
            if not unmarked or attempt == attempts:
                break
            time.sleep(1)
            for table in unmarked:
                cursor.execute(f"VACUUM {table}")
        if unmarked:
            self.stdout.write(f"  pages still not all-visible in: {', '.join(unmarked)}")

    def wait_for_older_snapshots(self, cursor, timeout: float = SNAPSHOT_WAIT_SECONDS) -> None:
        """Wait until no other transaction of this database started before the load ended.

        VACUUM marks a page all-visible (what lets index-only scans skip the table) only when
        no snapshot could still miss its rows; an automatic ANALYZE that began during the load
        holds such a snapshot, and the pages loaded after it would stay unmarked.
        """
        cursor.execute("SELECT now()")
        (loaded_at,) = cursor.fetchone()
        deadline = time.monotonic() + timeout
        while True:
            cursor.execute(
                "SELECT string_agg(DISTINCT COALESCE(NULLIF(backend_type, 'client backend'), "
                "'a session') || ': ' || left(query, 60), '; ') FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_xmin IS NOT NULL AND xact_start < %s",
                [loaded_at],
            )
            (waiting_for,) = cursor.fetchone()
            if not waiting_for:
                return
            if time.monotonic() > deadline:
                self.stdout.write(f"  vacuuming while older transactions run: {waiting_for}")
                return
            self.stdout.write(f"  waiting for older transactions to end: {waiting_for}")
            self.stdout.flush()
            time.sleep(2)


def _next_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")
        return cursor.fetchone()[0]
