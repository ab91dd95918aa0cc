"""Carry the plain-text keys of `rest_framework.authtoken` over as digests, then drop them.

Existing keys keep working (the same key hashes to the stored digest) and no longer sit
in the database in clear (issue 9, finding 10). The authtoken app is no longer
installed, so its table is read with SQL, and only if a database still has it.
"""

import hashlib

from django.db import migrations

OLD_TABLE = "authtoken_token"


def hash_existing_keys(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("jobs", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {OLD_TABLE}")
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        ApiToken(user_id=user_id, digest=hashlib.sha256(key.encode()).hexdigest(), prefix=key[:8])
        for key, user_id in rows
    )
    schema_editor.execute(schema_editor.sql_delete_table % {"table": schema_editor.quote_name(OLD_TABLE)})


class Migration(migrations.Migration):

    dependencies = [
        ("jobs", "0007_api_token"),
    ]

    operations = [
        migrations.RunPython(hash_existing_keys, migrations.RunPython.noop),
    ]
