from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from saidao.core.errors import Conflict, NotFound


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
    default_message = _("没有找到该证书，请核对验证码。")


class CertificateAlreadyRevoked(Conflict):
    code = "certificate_already_revoked"
    default_message = _("该证书已经撤销。")
