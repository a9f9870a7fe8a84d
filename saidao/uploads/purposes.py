"""What uploads are for: each purpose is registered by the app that consumes its files.

The uploads app imports no app that uses it. ``entries`` (say) calls, in its ``AppConfig.ready``::

    upload_purpose_register("entry", max_size=500 * MB, on_complete=entry_upload_completed,
                            content_types=("video/",))

and ``on_complete(upload)`` runs once, after the transaction that completed the upload commits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

from .errors import UploadPurposeUnknown, UploadTooLarge, UploadTypeNotAllowed

if TYPE_CHECKING:
    from .models import Upload

MB = 1024 * 1024
UPLOAD_DEFAULT_MAX_SIZE = 500 * MB

CompletionHandler = Callable[["Upload"], None]
# authorize(owner=, metadata=, declared_size=) raises to refuse an upload before any byte is
# stored, or returns a cap lower than the purpose's (e.g. the campaign's file size limit).
Authorizer = Callable[..., int | None]


@dataclass(frozen=True)
class UploadPurpose:
    name: str
    max_size: int
    on_complete: CompletionHandler
    content_types: tuple[str, ...] = ()
    authorize: Authorizer | None = None

    def allows_type(self, content_type: str) -> bool:
        """Whether a declared MIME type fits: an entry ending in "/" matches the whole family."""
        if not self.content_types:
            return True
        ct = content_type.split(";", 1)[0].strip().lower()
        return any(ct.startswith(t) if t.endswith("/") else ct == t for t in self.content_types)


_purposes: dict[str, UploadPurpose] = {}
_lock = threading.Lock()


def upload_purpose_register(
    purpose: str,
    *,
    on_complete: CompletionHandler,
    max_size: int = UPLOAD_DEFAULT_MAX_SIZE,
    content_types: tuple[str, ...] = (),
    authorize: Authorizer | None = None,
) -> UploadPurpose:
    """Declare a purpose: its size cap, the MIME types it takes (empty: any; "video/" a
    family) and the handler called once per completed upload.

    Registering the same purpose again with the same arguments is harmless; with different
    ones it is a configuration error.
    """
    if not purpose or len(purpose) > 32:
        raise ImproperlyConfigured(f"upload purpose {purpose!r}: 1 to 32 characters")
    if max_size < 0:
        raise ImproperlyConfigured(f"upload purpose {purpose!r}: max_size must be >= 0")
    entry = UploadPurpose(
        name=purpose,
        max_size=max_size,
        on_complete=on_complete,
        content_types=tuple(t.lower() for t in content_types),
        authorize=authorize,
    )
    with _lock:
        existing = _purposes.get(purpose)
        if existing is not None:
            if existing != entry:
                raise ImproperlyConfigured(f"upload purpose {purpose!r} is already registered")
            return existing
        _purposes[purpose] = entry
    return entry


def upload_purpose_unregister(purpose: str) -> None:
    """Forget a purpose (for tests)."""
    with _lock:
        _purposes.pop(purpose, None)


def upload_purpose_get(purpose: str) -> UploadPurpose:
    try:
        return _purposes[purpose]
    except KeyError:
        raise UploadPurposeUnknown(detail={"purpose": purpose}) from None


def upload_purpose_check(
    *,
    purpose: str,
    declared_size: int,
    content_type: str,
    owner: Any = None,
    metadata: dict[str, Any] | None = None,
) -> int:
    """Refuse an upload before any byte is stored: unknown purpose, wrong type, refused by the
    purpose's ``authorize``, or too large. Returns the cap that applies."""
    entry = upload_purpose_get(purpose)
    cap = entry.max_size
    if entry.authorize is not None:
        narrower = entry.authorize(
            owner=owner, metadata=metadata or {}, declared_size=declared_size
        )
        if narrower is not None:
            cap = min(cap, narrower)
    if declared_size > cap:
        raise UploadTooLarge(detail={"max_size": cap, "declared_size": declared_size})
    if not entry.allows_type(content_type):
        raise UploadTypeNotAllowed(
            detail={"content_type": content_type, "allowed": list(entry.content_types)}
        )
    return cap


def upload_max_size() -> int:
    """The largest cap of any purpose (the server-wide Tus-Max-Size)."""
    with _lock:
        caps = [p.max_size for p in _purposes.values()]
    return max(caps) if caps else UPLOAD_DEFAULT_MAX_SIZE
