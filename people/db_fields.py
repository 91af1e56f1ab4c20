"""Fields and indexes whose column or index differs by database (people/models.py).

PostgreSQL is the production database; SQLite, the embedded default, gets the same tables
without what only PostgreSQL can hold, and the search code asks which one it runs on.
"""

import json

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models


class PostgreSQLOnly:
    """An index that exists on PostgreSQL only: on another database, creating or dropping
    it runs nothing but an SQL comment (its expressions, opclasses or method are
    PostgreSQL's)."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return f"-- {self.name}: PostgreSQL only"
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model, schema_editor, **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return f"-- {self.name}: PostgreSQL only"
        return super().remove_sql(model, schema_editor, **kwargs)


class PostgreSQLIndex(PostgreSQLOnly, models.Index):
    pass


class PostgreSQLGinIndex(PostgreSQLOnly, GinIndex):
    pass


def trigram_index(expression, name: str) -> PostgreSQLGinIndex:
    """A pg_trgm GIN index on ``expression``: what the API's ``#contains``, ``#endsWith``
    (and ``#startsWith`` on the city) compare, UPPER(column) LIKE UPPER('%text%')."""
    return PostgreSQLGinIndex(OpClass(expression, name="gin_trgm_ops"), name=name)


class DatabaseKeptArrayField(ArrayField):
    """An array that the database keeps (triggers): the ORM reads it and writes it only in
    the INSERT of a new row. An UPDATE through the ORM (``save()``) writes the column as
    itself, so a row read before a change that the triggers made never puts back what it
    read.

    PostgreSQL's array; other databases hold it as JSON text that nothing keeps or reads.
    """

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return super().db_type(connection)
        return "text"

    def get_db_prep_value(self, value, connection, prepared=False):
        if connection.vendor == "postgresql" or value is None:
            return super().get_db_prep_value(value, connection, prepared)
        return json.dumps(value)

    def get_placeholder(self, value, compiler, connection):
        if connection.vendor == "postgresql":
            return super().get_placeholder(value, compiler, connection)
        return "%s"

    def from_db_value(self, value, expression, connection):
        return json.loads(value) if isinstance(value, str) else value

    def pre_save(self, model_instance, add):
        if add:
            return super().pre_save(model_instance, add)
        return models.F(self.attname)


class CodePointCharField(models.CharField):
    """Text compared in code point order: COLLATE "C" on PostgreSQL (whatever the database's
    collation); SQLite's default order (BINARY) already is."""

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
