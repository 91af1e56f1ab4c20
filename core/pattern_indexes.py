"""Migrations that take out the second index Django gives a unique text column on PostgreSQL.

For a ``unique=True`` (or ``db_index=True``) CharField, Django creates on PostgreSQL, besides
the unique index, an index ``<table>_<column>_<hash>_like`` with ``varchar_pattern_ops``, for
``LIKE 'abc%'`` under a collation other than "C". Where the project never compares the
column by a case-sensitive prefix, that index only doubles the unique one: the same lookups
by equality, a second B-tree written by every insert.
"""

from __future__ import annotations

from django.db import migrations


def drop_like_index(app_label: str, model_name: str, field_name: str) -> migrations.RunPython:
    """An operation that drops the ``_like`` index of a field (PostgreSQL only); reversed, it
    creates it again. The name and the statement are Django's own (the schema editor's
    ``_create_index_name`` and ``_create_like_index_sql``, with which it made the index)."""

    def model_and_field(apps):
        model = apps.get_model(app_label, model_name)
        return model, model._meta.get_field(field_name)

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model, field = model_and_field(apps)
        name = schema_editor._create_index_name(model._meta.db_table, [field.column], "_like")
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model, field = model_and_field(apps)
        schema_editor.execute(schema_editor._create_like_index_sql(model, field))

    return migrations.RunPython(drop, create, elidable=False)
