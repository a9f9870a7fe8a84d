"""The OpenAPI document at /api/v1/openapi.json tells the truth: every schema has its own
name, each operation's documented security is what it does to a caller without credentials,
and a write without credentials is told to sign in."""

from __future__ import annotations

import enum
import typing
from collections import defaultdict
from typing import Any

import pytest
from django.test import Client
from ninja.operation import Operation
from pydantic import BaseModel

from saidao.config.api import api
from saidao.conftest import Tree

API = "/api/v1"


def _operations() -> list[tuple[str, str, Operation]]:
    """Every documented operation as (method, path under /api/v1, operation)."""
    out: list[tuple[str, str, Operation]] = []
    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            for op in view.operations:
                if op.include_in_schema:
                    out.extend((m, "/" + path.lstrip("/"), op) for m in op.methods)
    return out


def _schema_classes(annotation: Any, found: set[type]) -> None:
    """The models and enums an annotation reaches, nested ones included."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel | enum.Enum):
        if annotation in found:
            return
        found.add(annotation)
        if issubclass(annotation, BaseModel):
            for f in annotation.model_fields.values():
                _schema_classes(f.annotation, found)
        return
    for arg in typing.get_args(annotation):
        _schema_classes(arg, found)


def _document(client: Client) -> dict[str, Any]:
    resp = client.get(f"{API}/openapi.json")
    assert resp.status_code == 200
    doc: dict[str, Any] = resp.json()
    return doc


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return found


def test_no_two_schema_classes_share_a_name() -> None:
    """ninja names a component after its class and keeps one class per name, so two classes
    of the same name document one of them in the other's place: every class any operation
    reads or answers has a name of its own."""
    by_name: dict[str, set[str]] = defaultdict(set)
    for _method, _path, op in _operations():
        found: set[type] = set()
        for model in op.models:
            _schema_classes(model, found)
        for model in op.response_models.values():
            _schema_classes(model, found)
        for cls in found:
            if cls.__module__.startswith("saidao."):
                by_name[cls.__name__].add(f"{cls.__module__}.{cls.__qualname__}")
    shared = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert shared == {}


def _operation(method: str, path: str) -> Operation:
    return next(op for m, p, op in _operations() if m == method.upper() and p == path)


def _body_class(op: Operation) -> type[BaseModel]:
    """The class of the operation's JSON body, as the code declares it."""
    for model in op.models:
        if model.__ninja_param_source__ == "body":
            (field,) = model.model_fields.values()
            assert isinstance(field.annotation, type)
            return field.annotation
    raise AssertionError("no body")


@pytest.mark.parametrize(
    ("method", "path", "part"),
    [
        ("post", "/gallery/{entry_id}/report", "body"),
        ("post", "/orgs/{org_id}/roles", "body"),
        ("get", "/quiz/contests/{contest_id}/me", "200"),
    ],
)
def test_the_documented_bodies_are_the_real_ones(
    client: Client, method: str, path: str, part: str
) -> None:
    """The request or response schema documented for these operations (once hidden behind
    a namesake elsewhere) has exactly the fields of the class the code uses."""
    op = _operation(method, path)
    doc = _document(client)
    documented_op = doc["paths"][f"{API}{path}"][method]
    if part == "body":
        model = _body_class(op)
        schema = documented_op["requestBody"]["content"]["application/json"]["schema"]
    else:
        model = op.response_models[int(part)].model_fields["response"].annotation
        schema = documented_op["responses"][part]["content"]["application/json"]["schema"]
    documented = _resolve(doc, schema)
    fields = {f.alias or name for name, f in model.model_fields.items()}
    assert set(documented["properties"]) == fields, model


def _anonymous_allowed(op: dict[str, Any]) -> bool:
    security = op.get("security")
    return not security or {} in security


def _fill(path: str, op: dict[str, Any]) -> str:
    for p in op.get("parameters", []):
        if p["in"] == "path":
            value = "1" if p["schema"].get("type") == "integer" else "x"
            path = path.replace("{" + p["name"] + "}", value)
    return path


def test_documented_security_is_what_an_anonymous_caller_meets(client: Client, tree: Tree) -> None:
    """Rule: an operation documented without credentials (no ``security``, or ``{}`` among
    its alternatives) never answers 401 to a caller without credentials; every other one
    answers exactly 401 ``not_authenticated``, whatever the method, before looking at the
    body or the object (CSRF enforced as in a browser)."""
    doc = _document(client)
    anonymous = Client(enforce_csrf_checks=True)
    wrong = []
    public = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            url = _fill(path, op)
            resp = getattr(anonymous, method)(url, {}, content_type="application/json")
            if _anonymous_allowed(op):
                public += 1
                if resp.status_code == 401:
                    wrong.append(f"{method.upper()} {path}: documented public, answers 401")
            elif resp.status_code != 401 or resp.json().get("code") != "not_authenticated":
                wrong.append(
                    f"{method.upper()} {path}: documented signed-in, answers {resp.status_code}"
                )
    assert wrong == []
    assert public >= 20  # the document does list public operations


def test_the_leaderboards_and_contest_pages_are_documented_public(client: Client) -> None:
    """The endpoints anyone may read, signed in or not, say so: ``{}`` is one of their
    security alternatives, next to the bearer token and the session."""
    doc = _document(client)
    for path in [
        "/quiz/contests/{contest_id}",
        "/quiz/contests/{contest_id}/leaderboard",
        "/quiz/contests/{contest_id}/organizations",
        "/campaigns/{campaign_id}/leaderboard/summary",
        "/campaigns/{campaign_id}/leaderboard/top",
        "/campaigns/{campaign_id}/leaderboard/top.xlsx",
        "/campaigns/{campaign_id}/leaderboard/zones",
    ]:
        security = doc["paths"][f"{API}{path}"]["get"]["security"]
        assert {} in security and {"BearerAuth": []} in security, path
    for path in ["/campaigns/{campaign_id}/leaderboard/rank/{org_id}"]:
        assert {} not in doc["paths"][f"{API}{path}"]["get"]["security"]


@pytest.mark.django_db
def test_an_anonymous_write_is_told_to_sign_in() -> None:
    """A POST without a session or a token answers 401 ``not_authenticated`` in the usual
    body, not 403 for a missing CSRF token (there is no session to forge)."""
    anonymous = Client(enforce_csrf_checks=True)
    resp = anonymous.post(f"{API}/campaigns", {}, content_type="application/json")
    assert resp.status_code == 401
    assert resp.json()["code"] == "not_authenticated"
    assert set(resp.json()) == {"code", "message", "detail"}
    attempt = anonymous.post(f"{API}/quiz/contests/1/attempts")
    assert attempt.status_code == 401


def test_a_signed_in_session_still_needs_the_csrf_token(client: Client, tree: Tree) -> None:
    """A browser session writes only with its CSRF token: without it 403, with it the
    request goes through; the token stays unneeded with a bearer token."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(tree.city_officer)
    body = {"organizer_id": tree.dongying.pk, "slug": "x", "title": "x"}
    refused = browser.post(f"{API}/campaigns", body, content_type="application/json")
    assert refused.status_code == 403
    browser.get("/accounts/login/")  # sets the csrftoken cookie
    token = browser.cookies["csrftoken"].value
    passed = browser.post(
        f"{API}/campaigns", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert passed.status_code == 404  # past auth: 东营 lies outside the officer's subtree
