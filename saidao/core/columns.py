"""Numbers against the columns that hold them.

``values_check`` refuses, before the database, a number its column cannot hold, with the same
bounds on SQLite as on PostgreSQL (SQLite would store anything; PostgreSQL raises).
``rows_readable`` reads a list whose rows were stored before such checks existed: a row with a
number Django cannot convert back no longer takes the whole list down.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from .errors import InvalidInput

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=models.Model)

# Decimal conversion of a stored number beyond its column's digits, or not a number at all.
_UNREADABLE = (InvalidOperation, ValueError, TypeError, OverflowError)


def _decimal_bound(field: models.DecimalField[Any, Any]) -> Decimal:
    places = field.decimal_places or 0
    whole = (field.max_digits or 0) - places
    return Decimal(10) ** whole - Decimal(1).scaleb(-places)


def _problem(field: models.Field[Any, Any], value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(field, models.DecimalField):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return _("请填写数字。")
        if not number.is_finite():
            return _("请填写数字。")
        bound = _decimal_bound(field)
        if number > bound:
            return _("不能大于 %(le)s。") % {"le": bound}
        if number < -bound:
            return _("不能小于 %(ge)s。") % {"ge": -bound}
        return None
    # PostgreSQL's bounds wherever the code runs, so both databases answer alike.
    bounds = BaseDatabaseOperations.integer_field_ranges.get(field.get_internal_type())
    if bounds is not None:
        if isinstance(value, bool) or not isinstance(value, int):
            return _("请填写整数。")
        low, high = bounds
        if value > high:
            return _("不能大于 %(le)s。") % {"le": high}
        if value < low:
            return _("不能小于 %(ge)s。") % {"ge": low}
    return None


def values_check(model: type[models.Model], **values: Any) -> None:
    """InvalidInput with ``detail["fields"]`` naming each value its column cannot hold."""
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        problem = _problem(model._meta.get_field(name), value)  # type: ignore[arg-type]
        if problem is not None:
            errors[name] = [problem]
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidInput(first, detail={"fields": errors})


def rows_readable(qs: models.QuerySet[M]) -> list[M]:
    """The rows of ``qs``. A row holding a number that cannot be converted back (SQLite keeps
    what it was given, Django then fails on the row and with it the whole list) is shown with
    the number as stored, and logged; a row that cannot be read even so is left out, logged."""
    try:
        return list(qs)
    except _UNREADABLE:
        pass
    base = qs._chain()  # type: ignore[attr-defined]
    base.query.clear_limits()
    rows: list[M] = []
    for pk in qs.values_list("pk", flat=True):
        one = base.filter(pk=pk)
        try:
            rows.extend(one)
            continue
        except _UNREADABLE:
            pass
        row = _read_as_stored(one)
        if row is not None:
            rows.append(row)
    return rows


def _read_as_stored(one: models.QuerySet[M]) -> M | None:
    decimals = [f for f in one.model._meta.concrete_fields if isinstance(f, models.DecimalField)]
    names = {f"raw_{f.attname}": f.attname for f in decimals}
    try:
        row = one.defer(*[f.attname for f in decimals]).get()
        raw = one.annotate(
            **{key: Cast(attname, models.CharField()) for key, attname in names.items()}
        ).values(*names)[0]
    except _UNREADABLE:
        logger.error("%s %s cannot be read; left out of the list", one.model.__name__, one)
        return None
    for key, attname in names.items():
        text = raw[key]
        try:
            value = None if text is None else Decimal(str(text))
        except InvalidOperation:
            logger.error("%s.%s holds %r, not a number", one.model.__name__, attname, text)
            return None
        row.__dict__[attname] = value
    logger.warning(
        "%s %s holds numbers beyond its columns; shown as stored: %s",
        one.model.__name__,
        row.pk,
        {names[k]: raw[k] for k in names},
    )
    return row
