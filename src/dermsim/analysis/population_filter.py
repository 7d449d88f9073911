"""Population filters of analysis plans: a small expression language, parsed with :mod:`ast` and
never evaluated as Python: comparisons (``==, !=, <, <=, >, >=``, chained), ``in``/``not in`` a
list of constants, ``and``/``or``/``not``, variable names and constants. ``EFFFL == "Y" and AGE >= 6``
is one. Its own module so that the plan (which validates filters) and the methods (which apply
denominator filters) share it without importing each other.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dermsim.errors import InvalidInputError

__all__ = ["PopulationFilter", "parse_population"]


_CMP_OPS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}


@dataclass(frozen=True)
class PopulationFilter:
    """A parsed population filter; call :meth:`mask` on a frame to get the selected rows."""

    text: str
    tree: ast.Expression
    names: tuple[str, ...]

    def mask(self, df: pd.DataFrame) -> np.ndarray:
        """Boolean array, True where the row belongs to the population (missing compares False,
        except ``!=`` and ``not in``, which are True for a missing value, as in SAS)."""
        if not self.text:
            return np.ones(len(df), dtype=bool)
        missing = [n for n in self.names if n not in df.columns]
        if missing:
            raise InvalidInputError(
                f"population {self.text!r} names variable {missing[0]}, which the data lack.")
        out = _eval(self.tree.body, df)
        return np.asarray(out, dtype=bool) & np.ones(len(df), dtype=bool)


def _const(node: ast.AST, text: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)):
        return -node.operand.value
    raise InvalidInputError(
        f"population {text!r}: expected a constant (string or number); got {ast.unparse(node)!r}.")


def _check(node: ast.AST, text: str, names: list[str]) -> None:
    """Accept only the nodes of the filter language; reject anything else by name."""
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, text, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, text, names)
    elif isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(right, ast.List | ast.Tuple):
                    raise InvalidInputError(
                        f"population {text!r}: 'in' needs a list of constants, e.g. AGEGR1 in "
                        f"[\"<65\", \"65-80\"]; got {ast.unparse(right)!r}.")
                for elt in right.elts:
                    _const(elt, text)
            elif type(op) not in _CMP_OPS:
                raise InvalidInputError(f"population {text!r}: operator not allowed.")
        for o in operands:
            if isinstance(o, ast.Name):
                names.append(o.id)
            elif not isinstance(o, ast.List | ast.Tuple):
                _const(o, text)
    elif isinstance(node, ast.Name):
        # A bare name is a flag test: FLAG means FLAG == "Y".
        names.append(node.id)
    else:
        raise InvalidInputError(
            f"population {text!r}: only comparisons, and/or/not, variable names, constants and "
            f"'in' lists are allowed; got {ast.unparse(node)!r}.")


def _operand(node: ast.AST, df: pd.DataFrame) -> Any:
    if isinstance(node, ast.Name):
        return df[node.id]
    if isinstance(node, ast.List | ast.Tuple):
        return [_const(e, "") for e in node.elts]
    return _const(node, "")


def _eval(node: ast.AST, df: pd.DataFrame) -> np.ndarray:
    if isinstance(node, ast.BoolOp):
        parts = [_eval(v, df) for v in node.values]
        fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = parts[0]
        for p in parts[1:]:
            out = fn(out, p)
        return out
    if isinstance(node, ast.UnaryOp):
        return np.logical_not(_eval(node.operand, df))
    if isinstance(node, ast.Name):
        return (df[node.id] == "Y").to_numpy()
    assert isinstance(node, ast.Compare)
    result = np.ones(len(df), dtype=bool)
    left = _operand(node.left, df)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = _operand(right_node, df)
        if isinstance(op, ast.In | ast.NotIn):
            hit = pd.Series(left, index=df.index).isin(right).to_numpy()
            part = hit if isinstance(op, ast.In) else ~hit
        else:
            part = np.asarray(_compare(_CMP_OPS[type(op)], left, right), dtype=bool)
        result &= part
        left = right
    return result


def _compare(fn: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
    try:
        out = fn(left, right)
    except TypeError as exc:
        raise InvalidInputError(f"population: cannot compare {left!r} with {right!r}: {exc}") from None
    if isinstance(out, pd.Series):
        return out.fillna(fn is operator.ne).to_numpy(dtype=bool)
    return out


def parse_population(text: str) -> PopulationFilter:
    """Parse a population filter (see the module docstring); raise on anything outside the language."""
    text = (text or "").strip()
    if not text:
        return PopulationFilter("", ast.Expression(body=ast.Constant(True)), ())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise InvalidInputError(f"population {text!r} is not a valid filter: {exc.msg}.") from None
    names: list[str] = []
    _check(tree.body, text, names)
    return PopulationFilter(text, tree, tuple(dict.fromkeys(names)))
