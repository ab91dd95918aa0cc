"""PostgreSQL compresses large values (TOAST) with pglz by default: storing a 500,000-number
job's 10 MB of params took 0.41 s, 0.33 s of it compressing; with lz4 0.09 s (issue 12).
lz4 needs PostgreSQL 14 built with it; elsewhere, and on SQLite, this does nothing. Only
values written afterwards are compressed the new way; no table is rewritten."""

from django.db import migrations

#: (model, field) of the columns that hold a job's bulk: its params and its payloads.
BULK_COLUMNS = (("JobParams", "params"), ("Subtask", "payload"))


def _lz4_available(cursor):
    cursor.execute("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    row = cursor.fetchone()
    return row is not None and "lz4" in row[0]


def _set_compression(method):
    def operation(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            if not _lz4_available(cursor):
                return
        quote = schema_editor.quote_name
        for model_name, field_name in BULK_COLUMNS:
            model = apps.get_model("jobs", model_name)
            column = model._meta.get_field(field_name).column
            schema_editor.execute(
                f"ALTER TABLE {quote(model._meta.db_table)} ALTER COLUMN {quote(column)} SET COMPRESSION {method}"
            )

    return operation


class Migration(migrations.Migration):

    dependencies = [
        ("jobs", "0009_verbatim_json_on_postgresql"),
    ]

    operations = [
        migrations.RunPython(_set_compression("lz4"), _set_compression("pglz")),
    ]
