from __future__ import annotations

import pytest

from saidao.certificates.models import Certificate
from saidao.certificates.services import CODE_ALPHABET, CODE_LENGTH, normalize_code
from saidao.certificates.tests.conftest import issue
from saidao.conftest import Tree

pytestmark = pytest.mark.django_db


def test_issue_is_idempotent_on_source(tree: Tree) -> None:
    """A second issue with the same source returns the first certificate unchanged."""
    worker = tree.anding_member.user
    first = issue(holder=worker, issuer=tree.anding, source="quiz-attempt:1")
    again = issue(holder=worker, issuer=tree.anding, source="quiz-attempt:1", title="别的")
    assert again.pk == first.pk
    assert again.title == first.title
    assert Certificate.objects.count() == 1
    other = issue(holder=worker, issuer=tree.anding, source="quiz-attempt:2")
    assert other.code != first.code


def test_code_is_crockford_base32_and_reads_back_loosely(tree: Tree) -> None:
    """Codes are 12 Crockford characters; lower case, dashes and O/I/L typed for 0/1 still match."""
    cert = issue(holder=None, issuer=tree.anding)
    assert len(cert.code) == CODE_LENGTH
    assert set(cert.code) <= set(CODE_ALPHABET)
    typed = "-".join([cert.code[:4], cert.code[4:8], cert.code[8:]]).lower()
    assert normalize_code(typed.replace("0", "o").replace("1", "l")) == cert.code
