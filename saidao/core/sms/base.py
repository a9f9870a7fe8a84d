"""What every backend shares: the errors, the kinds of message, the result, the console."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from saidao.core.errors import SaidaoError

log = logging.getLogger("saidao.sms")


class SmsNotConfigured(SaidaoError):
    code = "sms_not_configured"
    status = 503
    default_message = _("短信服务尚未配置，暂时无法发送短信。")


class SmsDeliveryFailed(SaidaoError):
    """``detail``: backend, provider_code, provider_message. ``transient``: worth a retry."""

    code = "sms_delivery_failed"
    status = 502
    default_message = _("短信发送失败，请稍后再试。")

    def __init__(
        self, *, backend: str, provider_code: str, provider_message: str, transient: bool = False
    ) -> None:
        super().__init__(
            detail={
                "backend": backend,
                "provider_code": provider_code,
                "provider_message": provider_message,
            }
        )
        self.transient = transient


def _verification_text(params: Mapping[str, str]) -> str:
    if "minutes" in params:
        return _("您的验证码是 %(code)s，%(minutes)s 分钟内有效。如非本人操作，请忽略。") % params
    return _("您的验证码是 %(code)s。如非本人操作，请忽略。") % params


@dataclass(frozen=True)
class TemplateKind:
    params: tuple[str, ...]  # every parameter, in the order of Tencent's positional {1}, {2}, ...
    required: tuple[str, ...]  # those a message cannot go without
    render: Callable[[Mapping[str, str]], str]  # the text the console backend shows


KINDS: dict[str, TemplateKind] = {
    "verification": TemplateKind(("code", "minutes"), ("code",), _verification_text),
}


def template_kind_register(name: str, kind: TemplateKind) -> None:
    """Rooms above core add the kinds of message they send (accounts: its account notices), so
    core never imports them; registering a name again replaces it."""
    KINDS[name] = kind


@dataclass(frozen=True)
class SmsResult:
    backend: str
    phone: str
    template: str
    message_id: str  # the provider's id for the message (BizId, SerialNo), for support requests


@dataclass(frozen=True)
class SmsMessage:
    """A message the console backend "sent"."""

    phone: str
    template: str
    params: dict[str, str]
    text: str


outbox: list[SmsMessage] = []


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def render_text(template: str, params: Mapping[str, str]) -> str:
    """The message as a person reads it: the known kind's text, else the kind and its values."""
    kind = KINDS.get(template)
    if kind is not None:
        return kind.render(params)
    values = "，".join(f"{name}={value}" for name, value in params.items())
    return f"[{template}] {values}"


def ordered_values(template: str, params: Mapping[str, str]) -> list[str]:
    kind = KINDS.get(template)
    names = kind.params if kind is not None else tuple(params)
    return [params[name] for name in names if name in params]


class SmsBackend:
    name: ClassVar[str]

    def supports(self, template: str) -> bool:
        return True

    def send(self, *, phone: str, template: str, params: Mapping[str, str]) -> SmsResult:
        raise NotImplementedError


class ConsoleBackend(SmsBackend):
    name = "console"

    def __init__(self) -> None:
        if not settings.DEBUG:
            log.warning("SAIDAO_SMS_BACKEND=console: messages are written to the log, not sent")
        self._count = 0

    def send(self, *, phone: str, template: str, params: Mapping[str, str]) -> SmsResult:
        text = render_text(template, params)
        outbox.append(SmsMessage(phone, template, dict(params), text))
        self._count += 1
        log.info("SMS to %s (%s): %s", mask_phone(phone), template, text)
        return SmsResult(self.name, phone, template, f"console-{self._count}")
