"""Shared pieces of the REST API: the error body and authentication."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, Any]
