from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from saidao.core.errors import NotFound, OutsideScope, SaidaoError
from saidao.core.middleware import DomainErrorMiddleware


def _ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@pytest.mark.django_db
@pytest.mark.parametrize(("error", "status"), [(NotFound(), 404), (OutsideScope(), 403)])
def test_domain_error_in_a_page_becomes_its_status(
    rf: RequestFactory, error: SaidaoError, status: int
) -> None:
    """A NotFound or OutsideScope escaping a view is a 404 or 403 page with its message."""
    request = rf.get("/somewhere/")
    request.user = AnonymousUser()
    response = DomainErrorMiddleware(_ok).process_exception(request, error)
    assert response is not None
    assert response.status_code == status
    assert str(error.message) in response.content.decode()


def test_other_errors_are_left_alone(rf: RequestFactory) -> None:
    """Programming errors still reach Django's own handling."""
    assert DomainErrorMiddleware(_ok).process_exception(rf.get("/"), ValueError("x")) is None
