"""Reads: a worker's certificates, one by code, and who may download it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from saidao.orgs.selectors import officer_paths, path_in_scope

from .errors import CertificateNotFound
from .models import Certificate
from .services import normalize_code


def certificates_of_holder(*, user: Any) -> QuerySet[Certificate]:
    return Certificate.objects.filter(holder=user).select_related("issuer")


def certificate_get(*, code: str) -> Certificate:
    """By verification code, as typed or scanned; unknown codes raise ``CertificateNotFound``."""
    certificate = (
        Certificate.objects.select_related("issuer").filter(code=normalize_code(code)).first()
    )
    if certificate is None:
        raise CertificateNotFound()
    return certificate


def certificate_can_download(*, user: Any, certificate: Certificate) -> bool:
    """The holder, an officer whose subtree holds the issuer, or a superuser."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser or (
        certificate.holder_id is not None and certificate.holder_id == user.pk
    ):
        return True
    return path_in_scope(path=certificate.issuer.path, paths=officer_paths(user=user))


def certificate_get_for_download(*, user: Any, code: str) -> Certificate:
    """The certificate if ``user`` may download it; otherwise it does not exist for them."""
    certificate = certificate_get(code=code)
    if not certificate_can_download(user=user, certificate=certificate):
        raise CertificateNotFound()
    return certificate
