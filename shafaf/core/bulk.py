"""Inserting many rows of one model at once, for bulk imports, when their primary keys are not needed back.

`QuerySet.bulk_create` compiles every value of every row through the SQL compiler (and, on SQLite, splits the rows
into statements of at most 999 parameters): for the leaf rows of a large import (expenditures, budget periods,
audit events) that compilation costs more than the database's own work. `insert_rows` builds the INSERT statement
once and hands all the rows to the driver's `executemany`; each value is prepared for the database by its field
as `bulk_create` would (`pre_save` for auto_now fields, `get_db_prep_save`), except where the value is already
what the driver takes (text, integers, booleans, None), which is most of them.

The rows' ids are not read back: use it only for rows nothing else refers to in the same run. Constraints and
foreign keys are enforced by the database as usual; model validation is the caller's business, as with
`bulk_create`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connections, models, router
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

CHUNK = 2000


def _prepare(field: models.Field, connection):
    """A function preparing one value of `field` for the driver: text, integers, booleans and None of exactly those
    types go as they are; anything else (dates, decimals, JSON, choices members, model instances) as the field
    prepares it for `bulk_create`."""
    target = field.target_field if isinstance(field, models.ForeignKey) else field

    def prepare(value):
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            return value
        return target.get_db_prep_save(value, connection)

    if isinstance(field, (models.CharField, models.TextField, models.IntegerField, models.BooleanField)):
        return prepare
    if isinstance(field, models.ForeignKey) and isinstance(target, (models.IntegerField, AutoFieldMixin)):
        return prepare

    last = [object(), None]  # the last value prepared and its result: a batch's rows share their timestamps

    def prepare_other(value):
        if value is last[0]:
            return last[1]
        prepared = field.get_db_prep_save(value, connection)
        if isinstance(value, (dt.datetime, dt.date)):
            last[0], last[1] = value, prepared
        return prepared

    return prepare_other


def _statement(connection, model: type[models.Model], fields: list[models.Field]) -> str:
    quote = connection.ops.quote_name
    # Only the model's own table and column names, quoted by the backend, are put into the text; values are parameters.
    return "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(field.column) for field in fields),
        ", ".join(["%s"] * len(fields)),
    )


def insert_rows(model: type[models.Model], objs: Iterable[models.Model], *, using: str | None = None) -> int:
    """INSERTs `objs` (unsaved instances of `model`, whose primary key is an auto field left empty) in chunks of
    CHUNK rows with one prepared statement. Returns the number of rows inserted."""
    objs = list(objs)
    if not objs:
        return 0
    connection = connections[using or router.db_for_write(model)]
    fields = [field for field in model._meta.local_concrete_fields if not isinstance(field, AutoFieldMixin)]
    sql = _statement(connection, model, fields)
    pre_saved = [
        field for field in fields if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    prepare = [(field.attname, _prepare(field, connection)) for field in fields]
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), CHUNK):
            rows = []
            for obj in objs[start : start + CHUNK]:
                for field in pre_saved:
                    field.pre_save(obj, add=True)
                rows.append([convert(getattr(obj, attname)) for attname, convert in prepare])
            cursor.executemany(sql, rows)
            written += len(rows)
    return written


def insert_values(
    model: type[models.Model], rows: Iterable[dict], names: list[str] | None = None, *, using: str | None = None
) -> int:
    """As insert_rows, for rows given as dicts of field attribute names (`project_id`, not `project`) to values,
    without making a model instance per row: for the largest leaf tables of an import. `names` are the columns
    written (default: every concrete field but an auto primary key); a name missing from a row takes the field's
    default, or the time now for an auto_now(_add) field, as a model instance would."""
    rows = list(rows)
    if not rows:
        return 0
    connection = connections[using or router.db_for_write(model)]
    concrete = [field for field in model._meta.local_concrete_fields if not isinstance(field, AutoFieldMixin)]
    by_name = {field.attname: field for field in concrete}
    fields = [by_name[name] for name in names] if names is not None else concrete
    sql = _statement(connection, model, fields)
    now = timezone.now()

    def default(field):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return now
        return field.get_default()

    prepare = [(field.attname, _prepare(field, connection), field) for field in fields]
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = [
                [convert(row[name]) if name in row else convert(default(field)) for name, convert, field in prepare]
                for row in rows[start : start + CHUNK]
            ]
            cursor.executemany(sql, chunk)
            written += len(chunk)
    return written


def insert_and_read_ids(
    model: type[models.Model], objs: list[models.Model], key: tuple[str, ...], *, using: str | None = None
) -> list[models.Model]:
    """As insert_rows, then reads the new rows' primary keys back by `key` (attribute names of a unique
    constraint of `model`) and sets them on `objs`, which are returned: for rows the same run refers to (a batch's
    projects, their budget lines and versions). Raises LookupError if a row is not found by its key."""
    if not objs:
        return objs
    insert_rows(model, objs, using=using)
    alias = using or router.db_for_write(model)
    found: dict[tuple, int] = {}
    first = key[0]
    values = sorted({getattr(obj, first) for obj in objs})
    for start in range(0, len(values), CHUNK):
        rows = (
            model._default_manager.using(alias)
            .filter(**{f"{first}__in": values[start : start + CHUNK]})
            .values_list("pk", *key)
        )
        for pk, *parts in rows:
            found[tuple(parts)] = pk
    for obj in objs:
        pk = found.get(tuple(getattr(obj, name) for name in key))
        if pk is None:
            raise LookupError(f"{model.__name__} {key} not found after its insert")
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = alias
    return objs
