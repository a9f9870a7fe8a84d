from __future__ import annotations

from saidao.conftest import Tree
from saidao.orgs import selectors


def test_organization_subtree_is_the_org_and_its_descendants(tree: Tree) -> None:
    """The subtree of 定西市 holds itself, 安定区, its courier federation and 通渭县, no more."""
    names = [o.name for o in selectors.organization_subtree(organization=tree.dingxi)]
    assert names == ["定西市总工会", "安定区总工会", "安定区快递行业工会联合会", "通渭县总工会"]


def test_organization_ancestors_are_root_first(tree: Tree) -> None:
    """Ancestors come root first and exclude the organization itself."""
    names = [o.name for o in selectors.organization_ancestors(organization=tree.courier)]
    assert names == ["中华全国总工会", "甘肃省总工会", "定西市总工会", "安定区总工会"]
