"""Rendered files, cached in media storage; the certificate row stays the truth.

A cached file's name carries a keyed hash of everything drawn that the row's ``updated_at``
does not cover (the verify address, the language), so a revoke or an edit draws anew, and the
name cannot be guessed from the code: embedded media are served without a permission check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language

from . import render
from .models import Certificate

log = logging.getLogger(__name__)

Renderer = Callable[..., bytes]
_RENDERERS: dict[str, Renderer] = {"png": render.certificate_png, "pdf": render.certificate_pdf}


def cached_name(certificate: Certificate, *, ext: str, verify_url: str) -> str:
    payload = "|".join(
        [certificate.code, certificate.updated_at.isoformat(), verify_url, get_language() or ""]
    )
    digest = salted_hmac("saidao.certificates.files", payload).hexdigest()[:32]
    return f"certificates/{certificate.code}/{digest}.{ext}"


def certificate_files_purge(code: str) -> None:
    """Remove every cached drawing of a certificate (after a revoke: the old ones showed it
    valid)."""
    folder = f"certificates/{code}"
    try:
        _dirs, names = default_storage.listdir(folder)
        for name in names:
            default_storage.delete(f"{folder}/{name}")
    except (OSError, NotImplementedError):
        log.warning("could not purge cached files of certificate %s", code, exc_info=True)


def certificate_file(certificate: Certificate, *, ext: str, verify_url: str) -> bytes:
    """The PNG or PDF bytes, drawn once and then read from storage."""
    name = cached_name(certificate, ext=ext, verify_url=verify_url)
    try:
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as fh:
                data: bytes = fh.read()
                return data
    except OSError:  # a storage hiccup only costs a redraw
        log.warning("certificate cache read failed for %s", name, exc_info=True)
    data = _RENDERERS[ext](certificate, verify_url=verify_url)
    try:
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(data))
    except OSError:
        log.warning("certificate cache write failed for %s", name, exc_info=True)
    return data
