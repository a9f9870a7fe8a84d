"""A small, safe formula language over a participant's indicators.

Formulas such as ``actual / design`` or ``max(0, (before - after) * 100)`` are parsed with
Python's ``ast`` and only a whitelist of nodes is accepted: decimal numbers, indicator codes,
``+ - * /``, unary minus and plus, parentheses, and the functions ``min``, ``max``, ``abs``.
Nothing is ever passed to ``eval``; evaluation walks the tree with ``Decimal`` arithmetic.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation, localcontext

from django.utils.translation import gettext as _

from .errors import DivisionByZero as DivisionByZeroError
from .errors import FormulaCycle, FormulaInvalid

MAX_LENGTH = 500
MAX_NODES = 200
FUNCTIONS: dict[str, Callable[..., Decimal]] = {
    "min": lambda *a: min(a),
    "max": lambda *a: max(a),
    "abs": lambda a: abs(a),
}
ARITY = {"min": (2, 20), "max": (2, 20), "abs": (1, 1)}
PRECISION = 28


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its source, its tree and the indicator codes it reads."""

    source: str
    tree: ast.expr
    names: frozenset[str]

    def evaluate(self, values: Mapping[str, Decimal | None]) -> Decimal | None:
        """The value, or None when an indicator it reads has no value."""
        return _evaluate(self.tree, values, self.source)


def _fail(source: str, message: str) -> FormulaInvalid:
    return FormulaInvalid(
        _("公式“%(f)s”有误：%(m)s") % {"f": source, "m": message}, detail={"formula": source}
    )


def _check(node: ast.AST, source: str, names: set[str]) -> None:
    if isinstance(node, ast.Expression):
        _check(node.body, source, names)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _fail(source, _("只能使用数字。"))
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise _fail(source, _("“%(n)s”是函数名，需要括号。") % {"n": node.id})
        names.add(node.id)
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            raise _fail(source, _("只支持 + - * / 运算。"))
        _check(node.left, source, names)
        _check(node.right, source, names)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise _fail(source, _("只支持 + - * / 运算。"))
        _check(node.operand, source, names)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS or node.keywords:
            raise _fail(source, _("只能使用 min、max、abs 函数。"))
        low, high = ARITY[node.func.id]
        if not low <= len(node.args) <= high:
            raise _fail(source, _("函数 %(n)s 的参数个数不对。") % {"n": node.func.id})
        for arg in node.args:
            _check(arg, source, names)
    else:
        raise _fail(source, _("包含不允许的写法。"))


def parse(source: str) -> Formula:
    """Parse and check a formula; FormulaInvalid with the reason otherwise."""
    text = (source or "").strip().replace("×", "*").replace("÷", "/")
    text = text.replace("（", "(").replace("）", ")").replace("，", ",")
    if not text:
        raise _fail(source, _("公式为空。"))
    if len(text) > MAX_LENGTH:
        raise _fail(source, _("公式太长。"))
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise _fail(source, _("语法错误。")) from None
    if sum(1 for _n in ast.walk(tree)) > MAX_NODES:
        raise _fail(source, _("公式太长。"))
    names: set[str] = set()
    _check(tree, source, names)
    return Formula(source=text, tree=tree.body, names=frozenset(names))


def _evaluate(node: ast.expr, values: Mapping[str, Decimal | None], source: str) -> Decimal | None:
    if isinstance(node, ast.Constant):
        return Decimal(str(node.value))
    if isinstance(node, ast.Name):
        return values.get(node.id)
    if isinstance(node, ast.UnaryOp):
        v = _evaluate(node.operand, values, source)
        if v is None:
            return None
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        left = _evaluate(node.left, values, source)
        right = _evaluate(node.right, values, source)
        if left is None or right is None:
            return None
        with localcontext() as ctx:
            ctx.prec = PRECISION
            try:
                if isinstance(node.op, ast.Add):
                    return left + right
                if isinstance(node.op, ast.Sub):
                    return left - right
                if isinstance(node.op, ast.Mult):
                    return left * right
                if right == 0:
                    raise DivisionByZeroError(
                        _("公式“%(f)s”计算时除数为零。") % {"f": source},
                        detail={"formula": source},
                    )
                return left / right
            except (InvalidOperation, DivisionByZero):
                raise DivisionByZeroError(
                    _("公式“%(f)s”计算时除数为零。") % {"f": source}, detail={"formula": source}
                ) from None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [_evaluate(a, values, source) for a in node.args]
        if any(a is None for a in args):
            return None
        return FUNCTIONS[node.func.id](*args)
    raise _fail(source, _("包含不允许的写法。"))  # unreachable after parse()


def evaluation_order(formulas: Mapping[str, Formula], known: set[str]) -> list[str]:
    """The order in which to evaluate ``formulas`` (code → formula) so that each one's inputs
    come first. ``known`` are the other indicator codes. Raises FormulaInvalid for an unknown
    name and FormulaCycle, naming the cycle, when formulas depend on each other in a loop."""
    for code, f in formulas.items():
        unknown = sorted(f.names - known - set(formulas))
        if unknown:
            raise FormulaInvalid(
                _("指标 %(c)s 的公式引用了不存在的指标：%(n)s。")
                % {"c": code, "n": "、".join(unknown)},
                detail={"indicator": code, "unknown": unknown},
            )
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(code: str, trail: list[str]) -> None:
        if state.get(code) == 2:
            return
        if state.get(code) == 1:
            cycle = [*trail[trail.index(code) :], code]
            raise FormulaCycle(
                _("公式之间存在循环引用：%(c)s。") % {"c": " → ".join(cycle)},
                detail={"cycle": cycle},
            )
        state[code] = 1
        for name in sorted(formulas[code].names):
            if name in formulas:
                visit(name, [*trail, code])
        state[code] = 2
        order.append(code)

    for code in sorted(formulas):
        visit(code, [])
    return order
