from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from saidao.accounts import services, token_cache
from saidao.accounts.models import ApiToken, User

from .factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _remembering(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Embedded, with an epoch file of this test's own."""
    settings.SAIDAO_TOKEN_CACHE = True
    settings.VAR_DIR = tmp_path
    token_cache.forget_all(others_too=False)
    token_cache._epoch_checked_at = 0.0
    token_cache._epoch_seen = None
    yield
    token_cache.forget_all(others_too=False)


def _remember(key_hash: str = "k", found: tuple[Any, ...] = (1,)) -> None:
    generation = token_cache.generation()
    token_cache.remember(key_hash, found, expires_at=LATER, generation=generation)


def test_a_lookup_is_remembered_until_the_token_expires() -> None:
    """What a lookup found comes back without a query, until the token's own expiry."""
    _remember(found=(7, "13800000000"))
    assert token_cache.recall("k", now=NOW) == (7, "13800000000")
    assert token_cache.recall("k", now=LATER) is None
    assert token_cache.recall("k", now=NOW) is None  # dropped, not kept for later


def test_a_lookup_is_forgotten_after_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever happens, a lookup is done again a minute later (changes made past the ORM)."""
    _remember()
    monkeypatch.setattr(token_cache, "TTL_S", 0.0)
    assert token_cache.recall("k", now=NOW) is None


def test_a_lookup_racing_a_change_is_not_remembered() -> None:
    """A token deleted while its lookup ran: the lookup's result is not remembered."""
    generation = token_cache.generation()
    token_cache.forget_all()  # the change commits meanwhile
    token_cache.remember("k", (1,), expires_at=LATER, generation=generation)
    assert token_cache.recall("k", now=NOW) is None


def test_deleting_a_token_forgets_at_once(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """Signing out everywhere, a password reset, an erasure: the next lookup is a query."""
    user = UserFactory.create()
    services.api_token_issue(user=user)
    _remember()
    with django_capture_on_commit_callbacks(execute=True):
        ApiToken.objects.filter(user=user).delete()
    assert token_cache.recall("k", now=NOW) is None


def test_saving_a_user_forgets_at_once_but_a_login_does_not(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """Deactivating a worker (any save of the user) forgets; recording a login does not."""
    user: User = UserFactory.create()
    _remember()
    with django_capture_on_commit_callbacks(execute=True):
        user.save(update_fields=["last_login"])
    assert token_cache.recall("k", now=NOW) == (1,)
    with django_capture_on_commit_callbacks(execute=True):
        user.is_active = False
        user.save()
    assert token_cache.recall("k", now=NOW) is None


def test_another_process_change_is_seen_within_a_second(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """A change saved by another process of the machine touches the epoch file; this process
    compares its time once a second and forgets everything when it moved."""
    _remember()
    epoch = django_settings.VAR_DIR / "auth-epoch"
    epoch.touch()
    os.utime(epoch, ns=(1, 1))  # another process's touch: a time this one never wrote
    assert token_cache.recall("k", now=NOW) == (1,)  # checked less than a second ago
    token_cache._epoch_checked_at = 0.0  # a second later
    assert token_cache.recall("k", now=NOW) is None


def test_this_process_change_touches_the_epoch_file(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """A change here tells the other processes, without making this one forget twice."""
    user = UserFactory.create()
    epoch = django_settings.VAR_DIR / "auth-epoch"
    with django_capture_on_commit_callbacks(execute=True):
        user.save()
    assert epoch.exists()
    _remember()
    token_cache._epoch_checked_at = 0.0
    assert token_cache.recall("k", now=NOW) == (1,)


def test_scaled_processes_do_not_remember(settings: Any) -> None:
    """With the cache off (scaled: no shared file between machines) nothing is remembered."""
    settings.SAIDAO_TOKEN_CACHE = False
    _remember()
    assert token_cache.recall("k", now=NOW) is None
