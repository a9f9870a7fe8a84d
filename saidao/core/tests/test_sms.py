"""The SMS transport: settings, the console outbox, and both providers against a local fake.

The fake providers are real HTTP servers on 127.0.0.1 that check each request's signature with
a computation of their own (written from the providers' documentation, not from saidao.core.sms)
and answer as the provider would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest
from django.core.exceptions import ImproperlyConfigured

from saidao.core import sms, tasks
from saidao.core.errors import InvalidInput

KEY_ID = "LTAI-test-key-id"
SECRET = "s3cr3t-never-logged-Zq9"
PHONE = "13812345678"
CODE = {"code": "246810", "minutes": "5"}


# --- The fake providers -------------------------------------------------------------------------


def _pct(value: str) -> str:
    return quote(value, safe="-_.~")


def expected_aliyun_signature(secret: str, method: str, params: dict[str, str]) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in pairs)
    to_sign = "&".join([method, _pct("/"), _pct(canonical)])
    mac = hmac.new((secret + "&").encode("utf-8"), to_sign.encode("utf-8"), "sha1")
    return base64.b64encode(mac.digest()).decode("ascii")


def _h(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), "sha256").digest()


def expected_tencent_signature(
    secret: str, headers: dict[str, str], signed: list[str], body: bytes, ts: int, service: str
) -> str:
    canonical_headers = "".join(f"{name}:{headers[name].strip().lower()}\n" for name in signed)
    canonical = (
        f"POST\n/\n\n{canonical_headers}\n{';'.join(signed)}\n{hashlib.sha256(body).hexdigest()}"
    )
    day = time.strftime("%Y-%m-%d", time.gmtime(ts))
    to_sign = (
        f"TC3-HMAC-SHA256\n{ts}\n{day}/{service}/tc3_request\n"
        f"{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
    )
    signing_key = _h(_h(_h(("TC3" + secret).encode("utf-8"), day), service), "tc3_request")
    return hmac.new(signing_key, to_sign.encode("utf-8"), "sha256").hexdigest()


@dataclass
class Fake:
    """What the fake provider saw, and how it answers the next requests."""

    url: str = ""
    answer: str = "ok"  # ok | refuse | http500 | garbage | slow | echo_secret
    requests: list[dict[str, Any]] = field(default_factory=list)
    failures_first: int = 0  # answer 502 to this many requests first
    sent: int = 0  # requests answered with success
    release: threading.Event = field(default_factory=threading.Event)


def _aliyun_handle(fake: Fake, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, Any]:
    params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
    fake.requests.append({"params": params, "headers": dict(handler.headers), "body": body})
    assert handler.headers["Content-Type"] == "application/x-www-form-urlencoded"
    given = params.get("Signature", "")
    if not hmac.compare_digest(given, expected_aliyun_signature(SECRET, "POST", params)):
        return 400, {
            "Code": "SignatureDoesNotMatch",
            "Message": "Specified signature is not matched",
        }
    if fake.answer == "echo_secret":
        return 400, {"Code": "InvalidAccessKeySecret", "Message": f"bad secret {SECRET} {KEY_ID}"}
    if fake.answer == "refuse":
        return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "r"}
    fake.sent += 1
    return 200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "r"}


def _tencent_handle(fake: Fake, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, Any]:
    headers = {k.lower(): v for k, v in handler.headers.items()}
    fake.requests.append({"headers": headers, "json": json.loads(body), "body": body})
    match = re.fullmatch(
        r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/(\w+)/tc3_request, "
        r"SignedHeaders=([a-z;-]+), Signature=([0-9a-f]{64})",
        headers.get("authorization", ""),
    )
    failure = {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "x"}}}
    if match is None or match[1] != KEY_ID:
        return 200, failure
    ts = int(headers["x-tc-timestamp"])
    signed = match[4].split(";")
    expected = expected_tencent_signature(SECRET, headers, signed, body, ts, match[3])
    if match[2] != time.strftime("%Y-%m-%d", time.gmtime(ts)) or not hmac.compare_digest(
        expected, match[5]
    ):
        return 200, failure
    if fake.answer == "refuse":
        status = {"Code": "LimitExceeded.PhoneNumberDailyLimit", "Message": "daily limit"}
        return 200, {"Response": {"SendStatusSet": [status], "RequestId": "r"}}
    if fake.answer == "error":
        return 200, {"Response": {"Error": {"Code": "InternalError.Timeout", "Message": "later"}}}
    fake.sent += 1
    number = fake.requests[-1]["json"]["PhoneNumberSet"][0]
    status = {
        "SerialNo": "2028:1234",
        "PhoneNumber": number,
        "Code": "Ok",
        "Message": "send success",
    }
    return 200, {"Response": {"SendStatusSet": [status], "RequestId": "r"}}


@contextmanager
def _serve(
    handle: Callable[[Fake, BaseHTTPRequestHandler, bytes], tuple[int, Any]],
) -> Iterator[Fake]:
    fake = Fake()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if fake.answer == "slow":
                fake.release.wait(60)  # released when the test ends
            if fake.failures_first > 0:
                fake.failures_first -= 1
                fake.requests.append({"body": body})
                self._reply(502, b"<html>Bad Gateway</html>", "text/html")
                return
            if fake.answer == "http500":
                fake.requests.append({"body": body})
                self._reply(500, b"<html>oops</html>", "text/html")
                return
            if fake.answer == "garbage":
                fake.requests.append({"body": body})
                self._reply(200, b"not json", "text/plain")
                return
            status, answer = handle(fake, self, body)
            self._reply(status, json.dumps(answer).encode(), "application/json")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that timed out has gone: writing the late answer fails

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def aliyun(settings: Any) -> Iterator[Fake]:
    with _serve(_aliyun_handle) as fake:
        settings.SAIDAO_SMS_BACKEND = "aliyun"
        settings.SAIDAO_SMS_ENDPOINT = fake.url
        settings.SAIDAO_SMS_ACCESS_KEY_ID = KEY_ID
        settings.SAIDAO_SMS_ACCESS_KEY_SECRET = SECRET
        settings.SAIDAO_SMS_SIGN_NAME = "赛道"
        settings.SAIDAO_SMS_TEMPLATE_CODE = "SMS_100001"
        settings.SAIDAO_SMS_TEMPLATES = {"notice": "SMS_100002"}
        settings.SAIDAO_SMS_TIMEOUT = 0.5
        yield fake


@pytest.fixture
def tencent(settings: Any) -> Iterator[Fake]:
    with _serve(_tencent_handle) as fake:
        settings.SAIDAO_SMS_BACKEND = "tencent"
        settings.SAIDAO_SMS_ENDPOINT = fake.url
        settings.SAIDAO_SMS_ACCESS_KEY_ID = KEY_ID
        settings.SAIDAO_SMS_ACCESS_KEY_SECRET = SECRET
        settings.SAIDAO_SMS_SIGN_NAME = "赛道"
        settings.SAIDAO_SMS_APP_ID = "1400000001"
        settings.SAIDAO_SMS_TEMPLATE_CODE = "1900001"
        settings.SAIDAO_SMS_TIMEOUT = 0.5
        yield fake


@pytest.fixture(autouse=True)
def _clean(settings: Any) -> Iterator[None]:
    """No SMS setting leaks in from the environment; the outbox starts empty."""
    settings.SAIDAO_SMS_BACKEND = ""
    settings.SAIDAO_SMS_ENDPOINT = ""
    settings.SAIDAO_SMS_REGION = ""
    settings.SAIDAO_SMS_TEMPLATE_CODE = ""
    settings.SAIDAO_SMS_TEMPLATES = {}
    sms.outbox.clear()
    yield
    sms.outbox.clear()


# --- Published examples -------------------------------------------------------------------------


def test_aliyun_signature_matches_the_published_example() -> None:
    """The SendSms example of Alibaba Cloud's signature documentation signs to its value."""
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert sms.aliyun_signature("testSecret", "GET", params) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert expected_aliyun_signature("testSecret", "GET", params) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_tencent_signature_matches_the_published_example() -> None:
    """The DescribeInstances example of Tencent Cloud's signature v3 documentation."""
    payload = (
        b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    signature = sms.tencent_signature(
        secret_key="Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        service="cvm",
        host="cvm.tencentcloudapi.com",
        content_type="application/json; charset=utf-8",
        payload=payload,
        timestamp=1551113065,
    )
    assert signature == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"


# --- Not configured, misconfigured, bad input ---------------------------------------------------


def test_unset_backend_means_no_sms() -> None:
    """With SAIDAO_SMS_BACKEND unset nothing is configured and sending raises SmsNotConfigured."""
    assert not sms.sms_configured()
    assert not sms.sms_configured("verification")
    with pytest.raises(sms.SmsNotConfigured) as caught:
        sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert caught.value.as_dict()["code"] == "sms_not_configured"
    assert caught.value.status == 503


def test_changing_the_setting_rebuilds_the_backend(settings: Any) -> None:
    """The cached backend follows SAIDAO_SMS_BACKEND when a test changes it."""
    assert sms.get_backend() is None
    settings.SAIDAO_SMS_BACKEND = "console"
    assert isinstance(sms.get_backend(), sms.ConsoleBackend)
    assert sms.get_backend() is sms.get_backend()
    settings.SAIDAO_SMS_BACKEND = ""
    assert not sms.sms_configured()


def test_unknown_backend_is_a_configuration_error(settings: Any) -> None:
    """A misspelt backend fails loudly, naming the choices."""
    settings.SAIDAO_SMS_BACKEND = "aliyn"
    with pytest.raises(ImproperlyConfigured, match="console, aliyun, tencent"):
        sms.sms_configured()


def test_missing_credentials_are_named_without_values(settings: Any) -> None:
    """A provider without its credentials names the missing settings, never a value."""
    settings.SAIDAO_SMS_BACKEND = "tencent"
    settings.SAIDAO_SMS_ACCESS_KEY_ID = KEY_ID
    settings.SAIDAO_SMS_ACCESS_KEY_SECRET = SECRET
    settings.SAIDAO_SMS_SIGN_NAME = ""
    settings.SAIDAO_SMS_APP_ID = ""
    with pytest.raises(ImproperlyConfigured) as caught:
        sms.get_backend()
    assert "SAIDAO_SMS_SIGN_NAME" in str(caught.value)
    assert "SAIDAO_SMS_APP_ID" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_endpoint_must_be_http(settings: Any, aliyun: Fake) -> None:
    """Only an http(s) endpoint is accepted: urllib would also open file:// addresses."""
    settings.SAIDAO_SMS_ENDPOINT = "file:///etc/passwd"
    with pytest.raises(ImproperlyConfigured, match="SAIDAO_SMS_ENDPOINT"):
        sms.get_backend()


def test_a_kind_without_template_is_not_configured(aliyun: Fake) -> None:
    """A provider sends only kinds with an approved template; others are not configured."""
    assert sms.sms_configured("verification")
    assert sms.sms_configured("notice")
    assert not sms.sms_configured("reminder")
    with pytest.raises(sms.SmsNotConfigured) as caught:
        sms.sms_send(phone=PHONE, template="reminder", params={"x": "1"})
    assert caught.value.detail == {"template": "reminder"}
    assert aliyun.requests == []


def test_a_number_that_is_not_a_mobile_is_invalid_input(settings: Any) -> None:
    """A bad number is the user's mistake: InvalidInput on the phone field, nothing sent."""
    settings.SAIDAO_SMS_BACKEND = "console"
    with pytest.raises(InvalidInput) as caught:
        sms.sms_send(phone="12345", template="verification", params=CODE)
    assert "phone" in caught.value.detail["fields"]
    assert sms.outbox == []


def test_a_known_kind_checks_its_parameters(settings: Any) -> None:
    """A known kind refuses a missing required or an unknown parameter: a programming error."""
    settings.SAIDAO_SMS_BACKEND = "console"
    with pytest.raises(ValueError, match="needs code"):
        sms.sms_send(phone=PHONE, template="verification", params={"minutes": "5"})
    with pytest.raises(ValueError, match="got code, name"):
        sms.sms_send(phone=PHONE, template="verification", params={"code": "1", "name": "x"})
    assert sms.outbox == []


# --- Console ------------------------------------------------------------------------------------


def test_console_keeps_the_message_and_logs_it(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The console backend puts the message in the outbox and logs its text, code included."""
    settings.SAIDAO_SMS_BACKEND = "console"
    with caplog.at_level(logging.INFO, logger="saidao.sms"):
        result = sms.sms_send(phone="+86" + PHONE, template="verification", params=CODE)
    assert result.backend == "console"
    assert result.phone == PHONE
    text = "您的验证码是 246810，5 分钟内有效。如非本人操作，请忽略。"
    assert sms.outbox == [sms.SmsMessage(PHONE, "verification", CODE, text)]
    assert text in caplog.text
    assert "138****5678" in caplog.text
    assert PHONE not in caplog.text


def test_verification_without_minutes_reads_without_validity(settings: Any) -> None:
    """A verification code without ``minutes`` is shown without the validity sentence."""
    settings.SAIDAO_SMS_BACKEND = "console"
    sms.sms_send(phone=PHONE, template="verification", params={"code": "135790"})
    assert sms.outbox[0].text == "您的验证码是 135790。如非本人操作，请忽略。"


def test_console_shows_an_unknown_kind_with_its_values(settings: Any) -> None:
    """A kind the module has no text for is shown as its name and values."""
    settings.SAIDAO_SMS_BACKEND = "console"
    sms.sms_send(phone=PHONE, template="notice", params={"title": "赛事开始"})
    assert sms.outbox[0].text == "[notice] title=赛事开始"


# --- Alibaba Cloud ------------------------------------------------------------------------------


def test_aliyun_sends_a_signed_sendsms_request(aliyun: Fake) -> None:
    """A verification code goes to dysmsapi as a signed SendSms with the template and values."""
    result = sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert result == sms.SmsResult("aliyun", PHONE, "verification", "900619746936498440^0")
    (request,) = aliyun.requests
    params = request["params"]
    assert params["Action"] == "SendSms"
    assert params["Version"] == "2017-05-25"
    assert params["AccessKeyId"] == KEY_ID
    assert params["PhoneNumbers"] == PHONE
    assert params["SignName"] == "赛道"
    assert params["TemplateCode"] == "SMS_100001"
    assert json.loads(params["TemplateParam"]) == CODE
    assert params["SignatureMethod"] == "HMAC-SHA1"
    assert params["SignatureVersion"] == "1.0"
    assert params["RegionId"] == "cn-hangzhou"
    stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60
    assert SECRET not in request["body"].decode()


def test_aliyun_nonce_differs_per_request(aliyun: Fake) -> None:
    """Each request carries a fresh SignatureNonce, as replay protection requires."""
    sms.sms_send(phone=PHONE, template="verification", params=CODE)
    sms.sms_send(phone=PHONE, template="verification", params=CODE)
    first, second = (r["params"]["SignatureNonce"] for r in aliyun.requests)
    assert first != second


def test_aliyun_refusal_is_delivery_failed(aliyun: Fake) -> None:
    """A provider error code becomes SmsDeliveryFailed carrying the code and message."""
    aliyun.answer = "refuse"
    with pytest.raises(sms.SmsDeliveryFailed) as caught:
        sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert caught.value.detail == {
        "backend": "aliyun",
        "provider_code": "isv.MOBILE_NUMBER_ILLEGAL",
        "provider_message": "非法手机号",
    }
    assert not caught.value.transient
    assert caught.value.status == 502


def test_wrong_secret_is_refused_by_the_fake(aliyun: Fake, settings: Any) -> None:
    """The fake really checks signatures: another secret gets SignatureDoesNotMatch (HTTP 400)."""
    settings.SAIDAO_SMS_ACCESS_KEY_SECRET = "another"
    with pytest.raises(sms.SmsDeliveryFailed) as caught:
        sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert caught.value.detail["provider_code"] == "SignatureDoesNotMatch"


@pytest.mark.parametrize("answer", ["http500", "garbage"])
def test_aliyun_server_errors_are_delivery_failed(aliyun: Fake, answer: str) -> None:
    """An HTTP 500 (transient) or an answer that is not JSON becomes SmsDeliveryFailed."""
    aliyun.answer = answer
    with pytest.raises(sms.SmsDeliveryFailed) as caught:
        sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert caught.value.detail["provider_code"] == (
        "http_500" if answer == "http500" else "http_200"
    )
    assert caught.value.transient is (answer == "http500")


def test_timeout_is_delivery_failed(aliyun: Fake) -> None:
    """A provider slower than SAIDAO_SMS_TIMEOUT gives SmsDeliveryFailed, not a hang (the
    fake would answer after a minute; the bound is loose, as a loaded machine is slow)."""
    aliyun.answer = "slow"
    started = time.monotonic()
    with pytest.raises(sms.SmsDeliveryFailed) as caught:
        sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert time.monotonic() - started < 30
    assert caught.value.detail["provider_code"] == "network_error"
    assert caught.value.transient


def test_server_down_is_delivery_failed(aliyun: Fake, settings: Any) -> None:
    """Nothing listening at the endpoint gives SmsDeliveryFailed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SAIDAO_SMS_ENDPOINT = f"http://127.0.0.1:{port}/"
    with pytest.raises(sms.SmsDeliveryFailed) as caught:
        sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert caught.value.detail["provider_code"] == "network_error"


def test_secret_never_reaches_logs_or_errors(
    aliyun: Fake, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither the secret nor the key id appear in logs or error details, even when echoed."""
    with caplog.at_level(logging.DEBUG):
        sms.sms_send(phone=PHONE, template="verification", params=CODE)
        aliyun.answer = "echo_secret"
        with pytest.raises(sms.SmsDeliveryFailed) as caught:
            sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert "138****5678" in caplog.text
    assert SECRET not in caplog.text
    assert KEY_ID not in caplog.text
    assert SECRET not in json.dumps(caught.value.as_dict(), ensure_ascii=False)
    assert caught.value.detail["provider_message"] == "bad secret *** ***"


# --- Tencent Cloud ------------------------------------------------------------------------------


def test_tencent_sends_a_signed_sendsms_request(tencent: Fake) -> None:
    """A verification code goes as a TC3-signed SendSms of 2021-01-11 with positional values."""
    result = sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert result == sms.SmsResult("tencent", PHONE, "verification", "2028:1234")
    (request,) = tencent.requests
    headers = request["headers"]
    assert headers["x-tc-action"] == "SendSms"
    assert headers["x-tc-version"] == "2021-01-11"
    assert headers["x-tc-region"] == "ap-guangzhou"
    assert abs(int(headers["x-tc-timestamp"]) - time.time()) < 60
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert request["json"] == {
        "PhoneNumberSet": ["+86" + PHONE],
        "SmsSdkAppId": "1400000001",
        "SignName": "赛道",
        "TemplateId": "1900001",
        "TemplateParamSet": ["246810", "5"],
    }


def test_tencent_sends_only_the_parameters_given(tencent: Fake) -> None:
    """Without the optional ``minutes`` the template gets the code alone, as {1}."""
    sms.sms_send(phone=PHONE, template="verification", params={"code": "135790"})
    assert tencent.requests[0]["json"]["TemplateParamSet"] == ["135790"]


def test_tencent_region_setting_is_sent(tencent: Fake, settings: Any) -> None:
    """SAIDAO_SMS_REGION replaces the default region."""
    settings.SAIDAO_SMS_REGION = "ap-beijing"
    sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert tencent.requests[0]["headers"]["x-tc-region"] == "ap-beijing"


def test_tencent_failed_status_is_delivery_failed(tencent: Fake) -> None:
    """A SendStatusSet item whose Code is not Ok becomes SmsDeliveryFailed with that code."""
    tencent.answer = "refuse"
    with pytest.raises(sms.SmsDeliveryFailed) as caught:
        sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert caught.value.detail["provider_code"] == "LimitExceeded.PhoneNumberDailyLimit"
    assert not caught.value.transient


def test_tencent_error_response_is_delivery_failed(tencent: Fake) -> None:
    """A Response.Error becomes SmsDeliveryFailed; an internal error is worth a retry."""
    tencent.answer = "error"
    with pytest.raises(sms.SmsDeliveryFailed) as caught:
        sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert caught.value.detail["provider_code"] == "InternalError.Timeout"
    assert caught.value.transient


def test_tencent_wrong_secret_is_refused_by_the_fake(tencent: Fake, settings: Any) -> None:
    """The fake really checks TC3 signatures: another secret gets AuthFailure.SignatureFailure."""
    settings.SAIDAO_SMS_ACCESS_KEY_SECRET = "another"
    with pytest.raises(sms.SmsDeliveryFailed) as caught:
        sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert caught.value.detail["provider_code"] == "AuthFailure.SignatureFailure"


def test_tencent_timeout_is_delivery_failed(tencent: Fake) -> None:
    """A slow Tencent endpoint gives SmsDeliveryFailed within the timeout."""
    tencent.answer = "slow"
    with pytest.raises(sms.SmsDeliveryFailed) as caught:
        sms.sms_send(phone=PHONE, template="verification", params=CODE)
    assert caught.value.detail["provider_code"] == "network_error"


# --- In the background --------------------------------------------------------------------------


@pytest.mark.django_db
def test_send_later_sends_after_commit(
    settings: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    """sms_send_later queues a task that sends once the transaction has committed."""
    settings.SAIDAO_SMS_BACKEND = "console"
    with django_capture_on_commit_callbacks(execute=True):
        sms.sms_send_later(phone=PHONE, template="verification", params=CODE)
        assert sms.outbox == []
    assert tasks.run_pending() == 1
    assert [m.phone for m in sms.outbox] == [PHONE]


def test_send_later_refuses_at_once_when_not_configured() -> None:
    """With no SMS, sms_send_later raises at the call instead of queueing a doomed task."""
    with pytest.raises(sms.SmsNotConfigured):
        sms.sms_send_later(phone=PHONE, template="verification", params=CODE)


@pytest.mark.django_db
def test_background_send_retries_a_transient_failure(
    aliyun: Fake, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    """A provider's 502 is retried by the task runner until the message goes through."""
    aliyun.failures_first = 2
    with django_capture_on_commit_callbacks(execute=True):
        sms.sms_send_later(phone=PHONE, template="verification", params=CODE)
    assert tasks.run_pending() == 3
    assert len(aliyun.requests) == 3
    assert aliyun.sent == 1
    assert aliyun.requests[-1]["params"]["PhoneNumbers"] == PHONE


@pytest.mark.django_db
def test_background_send_does_not_retry_a_refusal(
    aliyun: Fake, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    """A provider's refusal (bad number, limit) is final: one request, no retry."""
    aliyun.answer = "refuse"
    with django_capture_on_commit_callbacks(execute=True):
        sms.sms_send_later(phone=PHONE, template="verification", params=CODE)
    assert tasks.run_pending() == 1
    assert len(aliyun.requests) == 1
