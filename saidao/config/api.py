"""The REST API under /api/v1: one NinjaAPI assembling each app's router."""

from __future__ import annotations

import json
import logging
from decimal import InvalidOperation
from typing import Any

from django.db import DataError, IntegrityError
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from saidao.accounts.api import BearerAuth, session_auth
from saidao.accounts.api import router as accounts_router
from saidao.campaigns.api import router as campaigns_router
from saidao.certificates.api import router as certificates_router
from saidao.competitions.api import router as competitions_router
from saidao.core.api import router as core_router
from saidao.core.errors import SaidaoError
from saidao.entries.api import router as entries_router
from saidao.leaderboards.api import router as leaderboards_router
from saidao.orgs.api import router as orgs_router
from saidao.quizzes.api import router as quizzes_router
from saidao.regions.api import router as regions_router
from saidao.uploads.api import router as uploads_router

logger = logging.getLogger(__name__)


class BodyNotAnObject(ValueError):
    """A JSON body that is a list, a string, a number or null where an object is expected."""


class ObjectParser(Parser):
    """Every JSON body of this API is an object: ninja would read a list or a string as an
    object without attributes and fill an all-optional schema with its defaults."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise BodyNotAnObject(type(data).__name__)
        return data


api = NinjaAPI(
    title="Saidao 赛道 API",
    version="1",
    description="工会活动与劳动竞赛平台 REST API。Authenticate with `POST /api/v1/auth/login`, "
    "then send `Authorization: Bearer <token>`.",
    auth=[BearerAuth(), session_auth],
    urls_namespace="api",
    docs_url="/docs",
    parser=ObjectParser(),
)
# Django tries URL patterns in order and records each one it passes over, so the routes a
# contest's thousands of workers hit at once (starts, answer saves) come first.
api.add_router("", quizzes_router)
api.add_router("", regions_router)
api.add_router("", orgs_router)
api.add_router("", accounts_router)
api.add_router("", uploads_router)
api.add_router("", campaigns_router)
api.add_router("", entries_router)
api.add_router("", leaderboards_router)
api.add_router("", certificates_router)
api.add_router("", competitions_router)
api.add_router("", core_router)


@api.exception_handler(SaidaoError)
def on_domain_error(request: HttpRequest, exc: SaidaoError) -> HttpResponse:
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    retry_after = exc.detail.get("retry_after")
    if isinstance(retry_after, int):  # throttles say how long to wait
        response["Retry-After"] = str(retry_after)
    return response


def _field_message(error: dict[str, Any]) -> str:
    """Pydantic's English message for one error, said in the user's language."""
    ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    kind = str(error.get("type", ""))
    texts = {
        "missing": _("请填写此项。"),
        "string_too_long": _("最多 %(max_length)s 个字符。"),
        "string_too_short": _("至少 %(min_length)s 个字符。"),
        "too_long": _("最多 %(max_length)s 项。"),
        "greater_than_equal": _("不能小于 %(ge)s。"),
        "greater_than": _("须大于 %(gt)s。"),
        "less_than_equal": _("不能大于 %(le)s。"),
        "less_than": _("须小于 %(lt)s。"),
        "decimal_max_digits": _("数字最多 %(max_digits)s 位。"),
        "decimal_max_places": _("小数最多 %(decimal_places)s 位。"),
        "decimal_whole_digits": _("整数部分最多 %(whole_digits)s 位。"),
        "int_parsing": _("请填写整数。"),
        "int_type": _("请填写整数。"),
        "int_from_float": _("请填写整数。"),
        "decimal_parsing": _("请填写数字。"),
        "decimal_type": _("请填写数字。"),
        "finite_number": _("请填写数字。"),
        "float_parsing": _("请填写数字。"),
        "bool_parsing": _("请填写 true 或 false。"),
        "model_type": _("须为 JSON 对象。"),
        "dict_type": _("须为 JSON 对象。"),
        "list_type": _("须为列表。"),
        "string_type": _("须为文字。"),
    }
    text = texts.get(kind)
    if text is None:
        return _("格式不正确。")
    try:
        return text % ctx if "%(" in text else text
    except KeyError:
        return _("格式不正确。")


def _fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each error under the field it concerns: the body's "year", the query's "offset"."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        rest = loc[2:] if loc[:1] == ["body"] else loc[1:]
        name = ".".join(rest) or (loc[0] if loc else "body")
        fields.setdefault(name, []).append(_field_message(error))
    return fields


def _invalid(request: HttpRequest, errors: list[dict[str, Any]], status: int) -> HttpResponse:
    body = {
        "code": "invalid",
        "message": _("提交的内容有误，请按提示修改。"),
        "detail": {"errors": errors, "fields": _fields(errors)},
    }
    return api.create_response(request, body, status=status)


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return _invalid(request, list(exc.errors), 422)


@api.exception_handler(MultiPartParserError)
def on_multipart_error(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    body = {"code": "bad_multipart", "message": _("上传的表单数据格式不正确。"), "detail": {}}
    return api.create_response(request, body, status=400)


# Only a safety net: input is checked before the database, and whatever still reaches it out
# of range is the input's fault, not the server's. Logged so that the check can be added.
@api.exception_handler(DataError)
@api.exception_handler(IntegrityError)
@api.exception_handler(InvalidOperation)
@api.exception_handler(OverflowError)
def on_bad_value(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, IntegrityError) and not _is_check_violation(exc):
        raise exc
    logger.warning(
        "input reached the database unchecked: %s %s: %r", request.method, request.path, exc
    )
    body = {"code": "invalid", "message": _("提交的数值超出允许的范围。"), "detail": {}}
    return api.create_response(request, body, status=400)


def _is_check_violation(exc: IntegrityError) -> bool:
    """A CHECK constraint (or SQLite's type check), not a unique or foreign key clash."""
    text = str(exc).lower()
    cause = exc.__cause__
    pgcode = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return pgcode == "23514" or "check constraint" in text or "datatype mismatch" in text


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    body = {"code": "not_authenticated", "message": _("请先登录。"), "detail": {}}
    return api.create_response(request, body, status=401)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, BodyNotAnObject):
        error = {"type": "model_type", "loc": ["body"], "msg": "Input should be an object"}
        return _invalid(request, [error], 422)
    if isinstance(exc.__cause__, ValueError):  # the body is not JSON at all
        body = {"code": "invalid_json", "message": _("请求内容不是有效的 JSON。"), "detail": {}}
        return api.create_response(request, body, status=400)
    body = {"code": "http_error", "message": str(exc), "detail": {}}
    return api.create_response(request, body, status=exc.status_code)
