"""CloudWatch metric math, the little the dashboard and alarms use (+ - * /, unary minus, SUM of a list), evaluated
at one timestamp the way CloudWatch evaluates it, so the local stack draws the expressions the deployed dashboard
shows."""

from __future__ import annotations

import ast
from collections.abc import Mapping

_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b}


def evaluate(expression: str, values: Mapping[str, float | None]) -> float | None:
    """The value of a metric-math expression at one timestamp, given each metric id's value there (None or
    absent: no datapoint). Like CloudWatch: arithmetic on a missing point or a division by zero gives no point;
    SUM skips missing points."""

    def walk(node: ast.AST) -> float | None:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            value = values.get(node.id)
            return None if value is None else float(value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = walk(node.operand)
            return None if inner is None else -inner
        if isinstance(node, ast.BinOp) and (type(node.op) in _OPS or isinstance(node.op, ast.Div)):
            left, right = walk(node.left), walk(node.right)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.Div):
                return None if right == 0 else left / right
            return _OPS[type(node.op)](left, right)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "SUM"
            and len(node.args) == 1
            and isinstance(node.args[0], ast.List)
        ):
            points = [p for p in (walk(e) for e in node.args[0].elts) if p is not None]
            return sum(points) if points else None
        raise ValueError(f"unsupported metric math in {expression!r}: {ast.dump(node)}")

    return walk(ast.parse(expression, mode="eval"))
