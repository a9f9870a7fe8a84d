"""Shared pieces of the REST API: the error body and authentication."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from .privacy import privacy_notice

router = Router(tags=["core"])


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, Any]


class PrivacySectionOut(Schema):
    heading: str
    text: str


class PrivacyNoticeOut(Schema):
    version: str
    title: str
    intro: str
    sections: list[PrivacySectionOut]


@router.get("/privacy-notice", response=PrivacyNoticeOut, auth=None)
def privacy_notice_get(request: HttpRequest) -> Any:
    """The current privacy notice and its version: send that version as `consent_version` when
    signing up, activating or recovering an account. Chinese, or English with the language
    cookie."""
    return privacy_notice()
