"""SMS: one transport for verification codes and notices.

Interface, for saidao.accounts and the rest::

    from saidao.core import sms

    sms.sms_configured()                    # is any backend set?
    sms.sms_configured("verification")      # ... and can it send this kind of message?
    result = sms.sms_send(
        phone="13812345678", template="verification", params={"code": "123456", "minutes": "5"}
    )                                       # -> SmsResult(backend, phone, template, message_id)
    sms.sms_send_later(phone=..., template="notice", params={...})  # a task, after the commit

``template`` is a *kind* of message, not a provider's template id: the providers send only
templates approved beforehand, so each kind maps to one approved template per deployment
(``SAIDAO_SMS_TEMPLATE_CODE`` for "verification", ``SAIDAO_SMS_TEMPLATES`` for any kind).
``params`` fill the template's variables: Alibaba Cloud receives them by name (``${code}``);
Tencent Cloud by position (``{1}``, ``{2}``), in the order ``KINDS`` gives for a known kind and
in the dict's order otherwise; so a deployment's template takes the parameters Saidao passes.
A known kind accepts only its parameters and needs the required ones (a ``ValueError`` else):

- ``verification``: ``code`` (required), ``minutes`` (optional): "您的验证码是 123456，5 分钟内
  有效。如非本人操作，请忽略。", or without the validity when ``minutes`` is not passed.

Errors, as the rest of saidao.core.errors: ``SmsNotConfigured`` (no backend, or no template for
the kind; 503), ``SmsDeliveryFailed`` (network error, timeout, HTTP error or the provider's
refusal; 502, the provider's code and message in ``detail``, ``transient`` when a retry may
help), ``InvalidInput`` for a number that is not a mainland mobile. A backend set but missing
its credentials raises ``ImproperlyConfigured`` on first use: a deployment mistake.

Backends (``settings.SAIDAO_SMS_BACKEND``), one instance built on first use and rebuilt when a
``SAIDAO_SMS_*`` setting changes (tests):

- unset: no SMS;
- ``console``: the message is logged on the ``saidao.sms`` logger at INFO (code included, for
  development) and appended to ``outbox``, as Django's locmem mail backend does;
- ``aliyun``: Alibaba Cloud SMS (dysmsapi ``SendSms``, RPC signature HMAC-SHA1);
- ``tencent``: Tencent Cloud SMS (API 3.0 ``SendSms`` 2021-01-11, TC3-HMAC-SHA256).

Phone numbers are masked in logs; credentials never appear in logs or errors.

Layout: ``base`` (errors, kinds, results, the console backend), ``providers`` (the two clouds and
their signing), this module (choosing the backend, validation, the background task).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from saidao.core.errors import InvalidInput, SaidaoError
from saidao.core.tasks import enqueue, task

from .base import (
    KINDS,
    ConsoleBackend,
    SmsBackend,
    SmsDeliveryFailed,
    SmsMessage,
    SmsNotConfigured,
    SmsResult,
    TemplateKind,
    log,
    mask_phone,
    outbox,
    render_text,
    template_kind_register,
)
from .providers import AliyunBackend, TencentBackend, aliyun_signature, tencent_signature

__all__ = [
    "BACKENDS",
    "KINDS",
    "AliyunBackend",
    "ConsoleBackend",
    "SmsBackend",
    "SmsDeliveryFailed",
    "SmsMessage",
    "SmsNotConfigured",
    "SmsResult",
    "TemplateKind",
    "TencentBackend",
    "aliyun_signature",
    "get_backend",
    "mask_phone",
    "outbox",
    "render_text",
    "sms_configured",
    "sms_send",
    "sms_send_later",
    "template_kind_register",
    "tencent_signature",
]

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


BACKENDS: dict[str, type[SmsBackend]] = {
    "console": ConsoleBackend,
    "aliyun": AliyunBackend,
    "tencent": TencentBackend,
}


@lru_cache(maxsize=1)
def get_backend() -> SmsBackend | None:
    """The backend the settings choose, built once; None when SMS is not set up."""
    name = settings.SAIDAO_SMS_BACKEND.strip().lower()
    if not name:
        return None
    if name not in BACKENDS:
        raise ImproperlyConfigured(
            f"SAIDAO_SMS_BACKEND={name!r}: use one of {', '.join(BACKENDS)}, or leave it unset"
        )
    return BACKENDS[name]()


@receiver(setting_changed)
def _forget_backend(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("SAIDAO_SMS_") or setting == "DEBUG":
        get_backend.cache_clear()


def sms_configured(template: str | None = None) -> bool:
    """Whether SMS can be sent at all, or, with ``template``, messages of that kind."""
    backend = get_backend()
    if backend is None:
        return False
    return template is None or backend.supports(template)


def _checked(phone: str, template: str, params: Mapping[str, str]) -> str:
    number = phone.strip().removeprefix("+86")
    if not _MOBILE.match(number):
        raise InvalidInput.for_field("phone", _("请输入 11 位中国大陆手机号，例如 13812345678。"))
    kind = KINDS.get(template)
    if kind is not None and not set(kind.required) <= set(params) <= set(kind.params):
        # A programming mistake, not the user's: the template would not render.
        raise ValueError(
            f"SMS {template!r} takes {', '.join(kind.params)} (needs {', '.join(kind.required)}),"
            f" got {', '.join(sorted(params))}"
        )
    if not all(isinstance(value, str) for value in params.values()):
        raise TypeError("SMS template parameters are strings")
    return number


def sms_send(*, phone: str, template: str, params: Mapping[str, str]) -> SmsResult:
    """Send one message now, in this thread; it waits up to ``SAIDAO_SMS_TIMEOUT`` seconds."""
    number = _checked(phone, template, params)
    backend = get_backend()
    if backend is None:
        raise SmsNotConfigured()
    try:
        result = backend.send(phone=number, template=template, params=params)
    except SmsDeliveryFailed as exc:
        log.warning(
            "SMS %s to %s failed: %s %s",
            template,
            mask_phone(number),
            exc.detail["provider_code"],
            exc.detail["provider_message"],
        )
        raise
    except SaidaoError:
        raise
    except Exception as exc:
        # Whatever a provider's answer held, the caller gets the one failure it handles.
        log.exception("SMS %s to %s failed unexpectedly", template, mask_phone(number))
        raise SmsDeliveryFailed(
            backend=backend.name, provider_code="unexpected", provider_message=type(exc).__name__
        ) from exc
    if backend.name != "console":
        log.info(
            "SMS %s sent to %s via %s (%s)",
            template,
            mask_phone(number),
            backend.name,
            result.message_id,
        )
    return result


def sms_send_later(*, phone: str, template: str, params: Mapping[str, str]) -> None:
    """Send in the background once the transaction commits, retrying a transient failure.

    Checks now what it can (the number, the parameters, that SMS is set up for the kind).
    """
    number = _checked(phone, template, params)
    if not sms_configured(template):
        raise SmsNotConfigured(detail={"template": template})
    enqueue("core.sms_send", phone=number, template=template, params=dict(params))


@task(name="core.sms_send", retries=3, backoff_s=30.0)
def _send_task(*, phone: str, template: str, params: dict[str, str]) -> None:
    try:
        sms_send(phone=phone, template=template, params=params)
    except SmsNotConfigured:
        log.warning("SMS %s to %s dropped: SMS is not configured", template, mask_phone(phone))
    except SmsDeliveryFailed as exc:
        if exc.transient:
            raise  # the task runner retries with backoff
