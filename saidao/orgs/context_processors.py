from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .selectors import user_is_officer


def saidao(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    officer = bool(user is not None and user.is_authenticated and user_is_officer(user=user))
    return {
        "saidao_scaled": settings.SCALED,
        "is_officer": officer,
        "privacy_version": settings.SAIDAO_PRIVACY_NOTICE_VERSION,
    }
