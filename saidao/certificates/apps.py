from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "saidao.certificates"
    label = "certificates"
    verbose_name = _("证书")

    def ready(self) -> None:
        from saidao.accounts.signals import user_erased

        user_erased.connect(_on_user_erased, dispatch_uid="saidao-certificates-erase")


def _on_user_erased(*, user: Any, **_kwargs: Any) -> None:
    from .services import certificates_erase_holder

    certificates_erase_holder(user=user)
