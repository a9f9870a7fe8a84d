"""Every operation in the OpenAPI document, fed generated input by schemathesis (both what the
schema allows and what it forbids) as an officer, a worker and an anonymous caller, never answers
5xx and always answers what it documents.

The operations come from the document itself, so a new endpoint is fuzzed without touching this
file. Generation is derandomized and bounded in examples, so the verdict is the same on every
run and on any machine, however loaded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from pytest_django.fixtures import Settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import response_schema_conformance

from saidao.accounts.tests.factories import api_token
from saidao.config.wsgi import application
from saidao.conftest import Tree

SCHEMA_URL = "/api/v1/openapi.json"
EXAMPLES = 10
CHECKS = [not_a_server_error, response_schema_conformance]


@contextmanager
def _wsgi_in_test_transaction() -> Iterator[None]:
    """The WSGI handler closes the connection when a request starts and finishes; the test's
    transaction lives on that connection, so keep it open the way Django's test client does
    (which reconnects the receivers after each of its own requests: enter this after them)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _fuzz(operation: Any, headers: dict[str, str], found: list[str]) -> None:
    """Send EXAMPLES generated requests to one operation; record the first failure."""

    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        # A failure is recorded and the next operation goes on: no shrinking, no time spent.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(
            operation.as_strategy(GenerationMode.POSITIVE)
            | operation.as_strategy(GenerationMode.NEGATIVE)
        )
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        # Check failures come as a BaseExceptionGroup; anything else the call raises counts too.
        except (Exception, BaseExceptionGroup) as exc:
            if not found:
                found.append(f"{exc.__class__.__name__}: {exc}")

    run()


@pytest.mark.slow
@pytest.mark.django_db
def test_every_operation_answers_as_documented_for_every_caller(
    tree: Tree, client: Client, settings: Settings
) -> None:
    """No operation answers 5xx or a response its schema does not describe, whoever calls it."""
    # The first request would start the aggregator thread, which closes the connection.
    settings.SAIDAO_AGGREGATOR = "manual"
    # Codes are sent (to the log), so the SMS operations run rather than answer 503.
    settings.SAIDAO_SMS_BACKEND = "console"
    users = {"officer": tree.city_officer, "worker": tree.anding_member.user}
    headers = {
        role: {"Authorization": f"Bearer {api_token(client, user)}"} for role, user in users.items()
    }
    failures: list[str] = []
    operations = 0
    # Counters earlier tests left in the cache (rate limits) must not change the verdict, nor
    # the fuzz's own change the verdict of later tests.
    cache.clear()
    with _wsgi_in_test_transaction():
        schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, application)
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                # An operation the document cannot describe is a failure of its own.
                failures.append(f"invalid schema: {result.err()}")
                continue
            operation = result.ok()
            operations += 1
            for role in ("officer", "worker", "anonymous"):
                found: list[str] = []
                # Each operation starts from the same data: a fuzzed DELETE /me or logout must
                # not leave the next operation without its caller, nor its rows behind.
                with transaction.atomic():
                    _fuzz(operation, headers.get(role, {}), found)
                    transaction.set_rollback(True)
                failures.extend(f"{operation.label} as {role}:\n{f}" for f in found)
    cache.clear()
    assert operations > 100
    assert not failures, f"{len(failures)} failures\n\n" + "\n\n".join(failures)
