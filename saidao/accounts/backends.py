from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from saidao.core.errors import SaidaoError

from .models import User
from .services import auth_login


class PhoneBackend(ModelBackend):
    """Log in with a mobile number through ``accounts.services.auth_login``, so that every
    door (the admin's log-in form too) has the same delays after failures and one answer."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        phone = username or kwargs.get("phone") or ""
        if not phone or password is None:
            return None
        ip = request.META.get("REMOTE_ADDR") if request is not None else None
        try:
            user = auth_login(phone=phone, password=password, ip_address=ip)
        except SaidaoError:
            return None
        return user if self.user_can_authenticate(user) else None
