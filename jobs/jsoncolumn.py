"""A JSON model field that PostgreSQL stores as the text it was given.

Django's JSONField is `jsonb` on PostgreSQL, which keeps numbers as `numeric` and prints
them back in plain decimal notation: -4.02e-301 comes back as 300-odd digits (a 12 MB
`stats` params download became 160 MB, and the table grew by as much), and 1e200 comes
back as an integer. Users' params, payloads and results are only ever stored and read
whole, never queried into, so they need none of jsonb's operators: the `json` type keeps
the text verbatim and is cheaper to write. Other databases already store text.
A value already encoded (jobs.encoding.EncodedJSON) is stored as its text.
"""

from django.db import models
from psycopg.types.json import Json

from jobs.encoding import EncodedJSON


class VerbatimJSONField(models.JSONField):
    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        if isinstance(value, EncodedJSON):
            return Json(value.text, dumps=str) if connection.vendor == "postgresql" else value.text
        if connection.vendor != "postgresql":
            return super().get_db_prep_value(value, connection, prepared)
        from django.db.backends.postgresql.operations import get_json_dumps

        if not prepared:
            value = self.get_prep_value(value)
        # Json, not Django's Jsonb: a jsonb parameter would be cast, losing the text.
        return Json(value, dumps=get_json_dumps(self.encoder))


def read_json_as_text(sender, connection, **kwargs):
    """`connection_created` receiver: hand `json` columns to the field as text, as Django
    does for jsonb, so the field decodes them (psycopg would parse them first, and a
    stored JSON string would then be decoded twice)."""
    if connection.vendor == "postgresql":
        from psycopg.types.string import TextLoader

        connection.connection.adapters.register_loader("json", TextLoader)
