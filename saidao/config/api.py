"""The REST API under /api/v1: one NinjaAPI assembling each app's router."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth

from saidao.accounts.api import BearerAuth
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

api = NinjaAPI(
    title="Saidao 赛道 API",
    version="1",
    description="工会活动与劳动竞赛平台 REST API。Authenticate with `POST /api/v1/auth/login`, "
    "then send `Authorization: Bearer <token>`.",
    auth=[BearerAuth(), django_auth],
    urls_namespace="api",
    docs_url="/docs",
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


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    body = {
        "code": "invalid",
        "message": _("提交的内容有误，请按提示修改。"),
        "detail": {"errors": exc.errors},
    }
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    body = {"code": "not_authenticated", "message": _("请先登录。"), "detail": {}}
    return api.create_response(request, body, status=401)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    body = {"code": "http_error", "message": str(exc), "detail": {}}
    return api.create_response(request, body, status=exc.status_code)
