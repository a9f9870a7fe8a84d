"""Bounded types for the REST API's inputs, so that out-of-range numbers are refused with a 422
before they reach the database, and the OpenAPI document states each bound.

``Id`` is every path and body id; ``Page`` is the one pagination of every paginated list;
``SmallCount`` and ``Count`` match the columns of PositiveSmallIntegerField and
PositiveIntegerField on PostgreSQL (SQLite would store anything, PostgreSQL refuses).
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination, paginate

# The largest value of a signed 64-bit column (BigAutoField, SQLite's INTEGER).
MAX_BIGINT = 2**63 - 1
MAX_SMALLINT = 32767
MAX_INT = 2147483647
# The largest page any list answers with.
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 100

Id = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
SmallCount = Annotated[int, Field(ge=0, le=MAX_SMALLINT)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]
Position = Annotated[int, Field(ge=1, le=MAX_SMALLINT)]
Offset = Annotated[int, Field(ge=0, le=MAX_BIGINT)]
# The size of a page for lists that page by hand.
PageSize = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)]
# Free text stored in a TextField (descriptions, rules, reasons): the column has no bound, the
# API has one.
TEXT_MAX = 10_000


class Page(LimitOffsetPagination):
    """Limit and offset with both ends bounded: a page holds at most MAX_PAGE_SIZE items."""

    class Input(Schema):
        limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
        offset: int = Field(0, ge=0, le=MAX_BIGINT)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_PAGE_SIZE, **kwargs)

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        offset, limit = pagination.offset, min(pagination.limit, self.max_limit)
        # SQL takes OFFSET up to the 64-bit bound but not offset + limit beyond it.
        limit = max(0, min(limit, MAX_BIGINT - offset))
        return {
            self.items_attribute: queryset[offset : offset + limit],
            "count": self._items_count(queryset),
        }


F = TypeVar("F", bound=Callable[..., Any])


def paged(func: F) -> F:
    """Paginate a list endpoint with ``Page``. ninja's wrapper lives in another module, where
    the view's string annotations (``Id``) would not resolve, so they are resolved here."""
    func.__annotations__ = typing.get_type_hints(func, include_extras=True)
    return typing.cast(F, paginate(Page)(func))
