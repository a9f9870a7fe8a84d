"""Writes: issuing (idempotent on the source) and revoking certificates."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from saidao.core import clock
from saidao.core.errors import InvalidInput, OutsideScope
from saidao.core.services import audit_record
from saidao.orgs.models import Organization
from saidao.orgs.selectors import organization_in_scope

from .errors import CertificateAlreadyRevoked
from .files import certificate_files_purge
from .models import Certificate
from .render import mask_name

if TYPE_CHECKING:
    from saidao.accounts.models import User

# Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper is unambiguous.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # 60 random bits: not guessable, short enough to type


_LOOKALIKES = str.maketrans("OIL", "011")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    """What a person typed, read the Crockford way (case, O/0, I/L/1, spaces and dashes)."""
    cleaned = code.strip().upper().replace("-", "").replace(" ", "")
    return cleaned.translate(_LOOKALIKES)


def certificate_issue(
    *,
    holder: User | None,
    holder_name: str,
    kind: str,
    title: str,
    event_name: str,
    issuer: Organization,
    issued_on: dt.date,
    details: Sequence[tuple[str, str]],
    source: str,
) -> Certificate:
    """Issue a certificate, once per ``source``: a second call returns the first one unchanged.

    Safe under concurrent calls with the same source: the unique constraint decides, and the
    loser reads the winner's row.
    """
    if kind not in Certificate.Kind.values:
        raise InvalidInput.for_field("kind", _("证书类型无效。"))
    name = holder_name.strip()
    if not name:
        raise InvalidInput.for_field("holder_name", _("获证人姓名不能为空。"))
    if not source:
        raise InvalidInput.for_field("source", _("缺少证书来源。"))
    existing = Certificate.objects.filter(source=source).first()
    if existing is not None:
        return existing
    rows = [[str(label), str(value)] for label, value in details]
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Certificate.objects.create(
                    code=new_code(),
                    kind=kind,
                    holder=holder,
                    holder_name=name,
                    title=title,
                    event_name=event_name,
                    issuer=issuer,
                    issued_on=issued_on,
                    details=rows,
                    source=source,
                )
        except IntegrityError:
            # Either another call issued this source first, or (very rarely) the code collided.
            existing = Certificate.objects.filter(source=source).first()
            if existing is not None:
                return existing
    raise RuntimeError("could not draw a free certificate code")


@transaction.atomic
def certificate_revoke(*, certificate: Certificate, actor: User, reason: str) -> Certificate:
    """Revoke a certificate (audited); its verify page then says it is revoked."""
    if not actor.is_superuser and not organization_in_scope(
        user=actor, organization=certificate.issuer
    ):
        raise OutsideScope()
    reason = reason.strip()
    if not reason:
        raise InvalidInput.for_field("reason", _("请填写撤销理由。"))
    locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if locked.revoked_at is not None:
        raise CertificateAlreadyRevoked()
    locked.revoked_at = clock.now()
    locked.revoked_reason = reason[:200]
    locked.revoked_by = actor
    locked.save(update_fields=["revoked_at", "revoked_reason", "revoked_by", "updated_at"])
    data: dict[str, Any] = {"reason": locked.revoked_reason, "code": locked.code}
    audit_record(actor=actor, action="certificate.revoke", target=locked, data=data)
    code = locked.code
    transaction.on_commit(lambda: certificate_files_purge(code))
    return locked


def certificates_erase_holder(*, user: User) -> int:
    """A worker erased their account: their certificates stay as the issuer's record, with the
    printed name masked as the verify page shows it and no link to the account. Cached drawings
    go once the erasure commits."""
    certificates = list(Certificate.objects.filter(holder=user))
    for certificate in certificates:
        certificate.holder_name = mask_name(certificate.holder_name)
        certificate.holder = None
        certificate.save(update_fields=["holder_name", "holder", "updated_at"])
        transaction.on_commit(functools.partial(certificate_files_purge, certificate.code))
    return len(certificates)
