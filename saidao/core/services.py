from __future__ import annotations

from typing import Any

from django.db import models

from .models import AuditEntry


def audit_record(
    *, actor: Any, action: str, target: models.Model, data: dict[str, Any] | None = None
) -> AuditEntry:
    """Append an audit entry; call it inside the service's transaction."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        data=data or {},
    )
