"""Model instances to and from rows of SQL text, for the statements every API request runs.

`Model.objects.raw` works out on every query which column is which field and how each
value converts (about 0.15 ms of CPU per query here, ten times what SQLite takes to run
a token lookup); a request runs three such reads. Here a query names its model's columns
in field order (`columns`) and the converters are worked out once per model in each
thread (each has database connections of its own). `insert` writes a new row as
`Model.objects.create` would, without compiling the INSERT each time (a submission's two
rows: 0.6 -> 0.33 ms).
"""

import functools
import threading

from django.db import connection

#: This thread's {(database alias, model): [(field index, column expression, converters)]}:
#: converters are methods of a connection, and each thread has connections of its own.
_converters = threading.local()


def columns(model, table):
    """The model's concrete columns, in field order, qualified by `table`, as SQL."""
    quote = connection.ops.quote_name
    return ", ".join(f"{table}.{quote(field.column)}" for field in model._meta.concrete_fields)


def fetch(model, sql, params):
    """[(instance, extras)] for the rows of `sql`: each row's first columns are the
    model's (`columns`), converted as the ORM would; the rest come back as `extras`."""
    fields = model._meta.concrete_fields
    converters = _converters_for(model)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    names = [field.attname for field in fields]
    found = []
    for row in rows:
        values = list(row[: len(fields)])
        for index, expression, functions in converters:
            for convert in functions:
                values[index] = convert(values[index], expression, connection)
        found.append((model.from_db(connection.alias, names, values), row[len(fields) :]))
    return found


def field_converters(field):
    """(column expression, converters) that turn `field`'s database values into Python
    ones as the ORM does: each is called as convert(value, expression, connection)."""
    column = field.get_col(field.model._meta.db_table)
    return column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)


def _converters_for(model):
    by_model = _converters.__dict__.setdefault("by_model", {})
    key = (connection.alias, model)
    if key not in by_model:
        by_model[key] = [
            (index, column, functions)
            for index, field in enumerate(model._meta.concrete_fields)
            for column, functions in [field_converters(field)]
            if functions
        ]
    return by_model[key]


def insert(instance):
    """Write the new `instance` as `save()` would (its fields' `pre_save` and database
    preparation, its auto primary key read back), but sending no model signals: for
    models none listens to. Returns the instance, saved."""
    model = type(instance)
    fields = [field for field in model._meta.concrete_fields if field is not model._meta.auto_field]
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_insert_statement(model, connection.vendor), values)
        if model._meta.auto_field is not None:
            setattr(instance, model._meta.auto_field.attname, cursor.fetchone()[0])
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


@functools.cache
def _insert_statement(model, vendor):
    quote = connection.ops.quote_name
    auto = model._meta.auto_field
    fields = [field for field in model._meta.concrete_fields if field is not auto]
    returning = f" RETURNING {quote(auto.column)}" if auto is not None else ""
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}){returning}"
    )
