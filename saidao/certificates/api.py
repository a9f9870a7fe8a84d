"""The certificates API under /api/v1."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Router, Schema

from saidao.accounts.models import User
from saidao.core.links import absolute_url

from . import selectors, services
from .files import certificate_file
from .models import Certificate
from .render import display_code, mask_name

router = Router(tags=["certificates"])


class CertificateOut(Schema):
    """A certificate as its holder (or an officer) sees it."""

    code: str
    kind: str
    holder_name: str
    title: str
    event_name: str
    issuer: str
    issued_on: dt.date
    details: list[list[str]]
    revoked: bool
    revoked_at: dt.datetime | None
    revoked_reason: str
    png_url: str
    pdf_url: str
    verify_url: str


class CertificateVerifyOut(Schema):
    """What anyone with the code may know: no phone, no employer, the name masked."""

    code: str
    status: str  # "valid" or "revoked"
    holder: str
    title: str
    event_name: str
    issuer: str
    issued_on: dt.date
    revoked_at: dt.datetime | None


class RevokeIn(Schema):
    reason: str = Field(..., max_length=200)


def _out(request: HttpRequest, cert: Certificate) -> dict[str, Any]:
    return {
        "code": cert.code,
        "kind": cert.kind,
        "holder_name": cert.holder_name,
        "title": cert.title,
        "event_name": cert.event_name,
        "issuer": cert.issuer.name,
        "issued_on": cert.issued_on,
        "details": [list(pair) for pair in cert.detail_pairs],
        "revoked": cert.is_revoked,
        "revoked_at": cert.revoked_at,
        "revoked_reason": cert.revoked_reason,
        "png_url": absolute_url(request, reverse("certificates:png", args=[cert.code])),
        "pdf_url": absolute_url(request, reverse("certificates:pdf", args=[cert.code])),
        "verify_url": _verify_url(request, cert),
    }


def _verify_url(request: HttpRequest, cert: Certificate) -> str:
    return absolute_url(request, reverse("certificates:verify", args=[cert.code]))


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@router.get("/certificates/mine", response=list[CertificateOut])
def certificates_mine(request: HttpRequest) -> Any:
    """The caller's certificates, newest first."""
    return [_out(request, c) for c in selectors.certificates_of_holder(user=_user(request))]


@router.get("/certificates/verify/{code}", response=CertificateVerifyOut, auth=None)
def certificates_verify(request: HttpRequest, code: str) -> Any:
    """Public: whether the code belongs to a certificate, and whether it still holds."""
    cert = selectors.certificate_get(code=code)
    return {
        "code": display_code(cert.code),
        "status": "revoked" if cert.is_revoked else "valid",
        "holder": mask_name(cert.holder_name),
        "title": cert.title,
        "event_name": cert.event_name,
        "issuer": cert.issuer.name,
        "issued_on": cert.issued_on,
        "revoked_at": cert.revoked_at,
    }


def _file(request: HttpRequest, code: str, ext: str) -> HttpResponse:
    cert = selectors.certificate_get_for_download(user=request.user, code=code)
    data = certificate_file(cert, ext=ext, verify_url=_verify_url(request, cert))
    response = HttpResponse(data, content_type="image/png" if ext == "png" else "application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{cert.code}.{ext}"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@router.get("/certificates/{code}.png")
def certificates_png(request: HttpRequest, code: str) -> HttpResponse:
    """The certificate image (1080 px wide): its holder, or an officer over its issuer."""
    return _file(request, code, "png")


@router.get("/certificates/{code}.pdf")
def certificates_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """The certificate as an A4 PDF: its holder, or an officer over its issuer."""
    return _file(request, code, "pdf")


@router.post("/certificates/{code}/revoke", response=CertificateOut)
def certificates_revoke(request: HttpRequest, code: str, payload: RevokeIn) -> Any:
    """An officer over the issuer revokes a certificate, with a reason (audited)."""
    cert = selectors.certificate_get_for_download(user=request.user, code=code)
    cert = services.certificate_revoke(
        certificate=cert, actor=_user(request), reason=payload.reason
    )
    return _out(request, cert)
