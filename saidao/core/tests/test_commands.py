from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings


@override_settings(SCALED=False)
def test_serve_refuses_several_workers_when_embedded() -> None:
    """`saidao serve --workers 2` without DATABASE_URL refuses, saying scaled mode is needed."""
    with pytest.raises(CommandError) as excinfo:
        call_command("serve", workers=2)
    message = str(excinfo.value)
    assert "DATABASE_URL" in message
    assert "--workers 2" in message


def test_serve_refuses_zero_workers() -> None:
    """A worker count below one is refused with a message."""
    with pytest.raises(CommandError):
        call_command("serve", workers=0)
