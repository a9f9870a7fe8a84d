"""``{% upload_config as cfg %}``: which protocol the page's uploader speaks, and where."""

from __future__ import annotations

from django import template
from django.urls import reverse

from saidao.uploads.s3 import s3_enabled

register = template.Library()


@register.simple_tag
def upload_config() -> dict[str, str]:
    """``mode`` is "s3" when media lives in a bucket (scaled mode), else "tus"."""
    return {
        "mode": "s3" if s3_enabled() else "tus",
        "tus_url": reverse("uploads:tus"),
        "api_url": reverse("api:uploads_s3_start").removesuffix("s3/start"),
    }
