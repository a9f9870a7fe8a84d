"""Each leaderboard test starts with no rank index in the process (none leaks between tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from saidao.leaderboards.ranks import reset_rank_index


@pytest.fixture(autouse=True)
def _fresh_rank_index() -> Iterator[None]:
    reset_rank_index()
    yield
    reset_rank_index()
