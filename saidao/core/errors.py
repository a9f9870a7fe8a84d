"""Typed domain errors.

Services raise these; the HTML views turn one into a form message and the API into
``{"code", "message", "detail"}`` with the error's HTTP status.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class SaidaoError(Exception):
    code = "error"
    status = 400
    default_message: str | Promise = _("请求无法完成。")

    def __init__(
        self, message: str | Promise | None = None, *, detail: dict[str, Any] | None = None
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.detail = detail or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self.message), "detail": self.detail}


class NotFound(SaidaoError):
    code = "not_found"
    status = 404
    default_message = _("找不到该对象，或您无权查看。")


class OutsideScope(SaidaoError):
    """The actor acts on something outside their part of the organization tree."""

    code = "outside_scope"
    status = 403
    default_message = _("此操作超出了您管理的组织范围。")


class NotAuthenticated(SaidaoError):
    code = "not_authenticated"
    status = 401
    default_message = _("请先登录。")


class InvalidInput(SaidaoError):
    """Input failed validation; ``detail["fields"]`` maps field names to messages."""

    code = "invalid"
    status = 400
    default_message = _("提交的内容有误，请按提示修改。")

    @classmethod
    def for_field(cls, field: str, message: str | Promise) -> InvalidInput:
        return cls(message, detail={"fields": {field: [str(message)]}})


class Conflict(SaidaoError):
    code = "conflict"
    status = 409
    default_message = _("与当前状态冲突。")
