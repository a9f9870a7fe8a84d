"""The cloud providers: Alibaba Cloud (dysmsapi, RPC signature) and Tencent Cloud (TC3)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import SmsBackend, SmsDeliveryFailed, SmsNotConfigured, SmsResult, ordered_values

_MAX_RESPONSE = 64 * 1024


class ProviderBackend(SmsBackend):
    """What the two cloud providers share: credentials, templates, and an HTTP POST."""

    default_endpoint: ClassVar[str]
    default_region: ClassVar[str]
    required: ClassVar[tuple[str, ...]] = (
        "SAIDAO_SMS_ACCESS_KEY_ID",
        "SAIDAO_SMS_ACCESS_KEY_SECRET",
        "SAIDAO_SMS_SIGN_NAME",
    )

    def __init__(self) -> None:
        missing = [name for name in self.required if not getattr(settings, name)]
        if missing:
            raise ImproperlyConfigured(f"SAIDAO_SMS_BACKEND={self.name} needs {', '.join(missing)}")
        self.key_id: str = settings.SAIDAO_SMS_ACCESS_KEY_ID
        self.secret: str = settings.SAIDAO_SMS_ACCESS_KEY_SECRET
        self.sign_name: str = settings.SAIDAO_SMS_SIGN_NAME
        self.region: str = settings.SAIDAO_SMS_REGION or self.default_region
        self.timeout = float(settings.SAIDAO_SMS_TIMEOUT)
        self.endpoint: str = settings.SAIDAO_SMS_ENDPOINT or self.default_endpoint
        if urlsplit(self.endpoint).scheme not in ("http", "https"):
            raise ImproperlyConfigured("SAIDAO_SMS_ENDPOINT must be an http(s) URL")
        self.templates = dict(settings.SAIDAO_SMS_TEMPLATES)
        if settings.SAIDAO_SMS_TEMPLATE_CODE:
            self.templates["verification"] = settings.SAIDAO_SMS_TEMPLATE_CODE

    def supports(self, template: str) -> bool:
        return template in self.templates

    def template_id(self, template: str) -> str:
        if template not in self.templates:
            raise SmsNotConfigured(detail={"template": template})
        return self.templates[template]

    def failed(self, code: str, message: str, *, transient: bool = False) -> SmsDeliveryFailed:
        # A provider may echo the request (Alibaba Cloud's SignatureDoesNotMatch does).
        for secret in (self.secret, self.key_id):
            message = message.replace(secret, "***")
        return SmsDeliveryFailed(
            backend=self.name,
            provider_code=code,
            provider_message=message[:300],
            transient=transient,
        )

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        """POST to the endpoint; the status and the JSON answer (None when not JSON)."""
        # The endpoint's scheme is checked to be http(s) in __init__.
        request = urllib.request.Request(  # noqa: S310
            self.endpoint, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status, raw = response.status, response.read(_MAX_RESPONSE)
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, _read_error_body(exc)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise self.failed("network_error", str(reason), transient=True) from exc
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, None


def _read_error_body(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read(_MAX_RESPONSE)
    except (OSError, http.client.HTTPException):
        return b""


def _aliyun_encode(value: str) -> str:
    """RFC 3986: all but A-Z a-z 0-9 - _ . ~ as %XY of the UTF-8 bytes; a space as %20."""
    return quote(value, safe="~")


def aliyun_canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(
        f"{_aliyun_encode(name)}={_aliyun_encode(params[name])}" for name in sorted(params)
    )


def aliyun_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """Alibaba Cloud's RPC signature (version 1.0, HMAC-SHA1) of ``params`` sans Signature."""
    canonical = aliyun_canonical_query({k: v for k, v in params.items() if k != "Signature"})
    string_to_sign = f"{method}&{_aliyun_encode('/')}&{_aliyun_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunBackend(ProviderBackend):
    name = "aliyun"
    default_endpoint = "https://dysmsapi.aliyuncs.com/"
    default_region = "cn-hangzhou"

    def send(self, *, phone: str, template: str, params: Mapping[str, str]) -> SmsResult:
        query = {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_id(template),
            "TemplateParam": json.dumps(dict(params), ensure_ascii=False, separators=(",", ":")),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        query["Signature"] = aliyun_signature(self.secret, "POST", query)
        # In the body rather than the URL: numbers and codes stay out of proxies' access logs.
        status, answer = self.post(
            aliyun_canonical_query(query).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        answer = answer if isinstance(answer, dict) else {}
        code, message = str(answer.get("Code", "")), str(answer.get("Message", ""))
        if 200 <= status < 300 and code == "OK":
            return SmsResult(self.name, phone, template, str(answer.get("BizId", "")))
        raise self.failed(code or f"http_{status}", message, transient=status >= 500)


def tencent_signature(
    *, secret_key: str, service: str, host: str, content_type: str, payload: bytes, timestamp: int
) -> str:
    """TC3-HMAC-SHA256 of a POST to "/" signing the content-type and host headers."""
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{content_type}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = f"TC3{secret_key}".encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


class TencentBackend(ProviderBackend):
    name = "tencent"
    default_endpoint = "https://sms.tencentcloudapi.com/"
    default_region = "ap-guangzhou"
    required = (*ProviderBackend.required, "SAIDAO_SMS_APP_ID")
    service = "sms"
    content_type = "application/json; charset=utf-8"

    def send(self, *, phone: str, template: str, params: Mapping[str, str]) -> SmsResult:
        body: dict[str, Any] = {
            "PhoneNumberSet": [f"+86{phone}"],
            "SmsSdkAppId": settings.SAIDAO_SMS_APP_ID,
            "SignName": self.sign_name,
            "TemplateId": self.template_id(template),
        }
        values = ordered_values(template, params)
        if values:
            body["TemplateParamSet"] = values
        payload = json.dumps(body, ensure_ascii=False).encode()
        host = urlsplit(self.endpoint).netloc
        timestamp = int(time.time())
        signature = tencent_signature(
            secret_key=self.secret,
            service=self.service,
            host=host,
            content_type=self.content_type,
            payload=payload,
            timestamp=timestamp,
        )
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        authorization = (
            f"TC3-HMAC-SHA256 Credential={self.key_id}/{date}/{self.service}/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={signature}"
        )
        status, answer = self.post(
            payload,
            {
                "Authorization": authorization,
                "Content-Type": self.content_type,
                "Host": host,
                "X-TC-Action": "SendSms",
                "X-TC-Version": "2021-01-11",
                "X-TC-Timestamp": str(timestamp),
                "X-TC-Region": self.region,
            },
        )
        response = answer.get("Response") if isinstance(answer, dict) else None
        if not isinstance(response, dict):
            raise self.failed(
                f"http_{status}", "no Response in the answer", transient=status >= 500
            )
        error = response.get("Error")
        if isinstance(error, dict):
            code = str(error.get("Code", ""))
            raise self.failed(code, str(error.get("Message", "")), transient=_tencent_retry(code))
        statuses = response.get("SendStatusSet")
        if not isinstance(statuses, list) or not statuses:
            raise self.failed(f"http_{status}", "no SendStatusSet in the answer")
        for item in statuses:
            item = item if isinstance(item, dict) else {}
            if item.get("Code") != "Ok":
                raise self.failed(str(item.get("Code", "")), str(item.get("Message", "")))
        return SmsResult(self.name, phone, template, str(statuses[0].get("SerialNo", "")))


def _tencent_retry(code: str) -> bool:
    return code.startswith(("InternalError", "RequestLimitExceeded"))
