"""Computed columns: a small, safe arithmetic language over the file's headers.

`Fracht netto` + `Maut`, UnitPrice * Quantity: numbers, backtick-quoted or bare headers,
+ - * / and parentheses. Anything else (names of functions, attributes, strings) is refused.
"""

from __future__ import annotations

import ast
import re

import numpy as np
import pandas as pd

from kam_analytics.errors import ConfigError, Reason

_BACKTICK = re.compile(r"`([^`]*)`")
_ALLOWED_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}


def _prepare_expression(expr: str) -> tuple[str, dict[str, str]]:
    names: dict[str, str] = {}

    def repl(m):
        key = f"__c{len(names)}"
        names[key] = m.group(1)
        return key

    return _BACKTICK.sub(repl, expr), names


def compile_expression(expr: str) -> tuple[ast.AST, dict[str, str]]:
    """Parse an arithmetic expression over `backtick-quoted` headers; reject anything else."""
    code, names = _prepare_expression(str(expr))
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as exc:
        raise ConfigError(Reason.FORMULA_SYNTAX, formula=repr(expr)) from exc
    for node in ast.walk(tree):
        ok = isinstance(
            node,
            ast.Expression
            | ast.BinOp
            | ast.UnaryOp
            | ast.Constant
            | ast.Name
            | ast.Load
            | ast.Add
            | ast.Sub
            | ast.Mult
            | ast.Div
            | ast.USub
            | ast.UAdd,
        )
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            ok = False
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            ok = False
        if not ok:
            raise ConfigError(Reason.FORMULA_NOT_ARITHMETIC, formula=repr(expr))
        if isinstance(node, ast.Name) and node.id not in names:
            # A bare word: allowed as a header without spaces (UnitPrice * Quantity).
            names[node.id] = node.id
    return tree, names


def expression_headers(expr: str) -> list[str]:
    """The file headers an expression reads."""
    return list(compile_expression(expr)[1].values())


def evaluate_expression(expr: str, columns: dict[str, pd.Series], index) -> pd.Series:
    """Evaluate over parsed numeric columns (header -> float Series); missing counts as 0,
    all inputs missing gives missing."""
    tree, names = compile_expression(expr)
    present = pd.Series(False, index=index)
    for header in names.values():
        present |= columns[header].notna()

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return columns[names[node.id]].fillna(0.0).to_numpy(dtype="float64")
        if isinstance(node, ast.UnaryOp):
            val = ev(node.operand)
            return -val if isinstance(node.op, ast.USub) else val
        if isinstance(node, ast.BinOp):
            with np.errstate(divide="ignore", invalid="ignore"):
                return _ALLOWED_BINOPS[type(node.op)](ev(node.left), ev(node.right))
        raise ConfigError(Reason.FORMULA_UNSUPPORTED, formula=repr(expr))

    result = ev(tree)
    out = pd.Series(np.broadcast_to(result, (len(index),)).astype("float64"), index=index)
    out = out.where(np.isfinite(out))
    if names:
        out = out.where(present)
    return out
