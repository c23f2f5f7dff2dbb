"""Normalisation operators (batch, layer, spatial and group norm): a path of dx dropped, N - 1, dgamma's axes."""
from __future__ import annotations

import ast
import copy
import re

from grader.mutation.operators.helpers import expr, is_call_to
from grader.mutation.operators.registry import register


INPUT_GRADIENT = re.compile(r"^d[xX](\d*|_?(g|group|grouped|reshaped|flat|r|t))$")


def _names(node: ast.AST) -> list[str]:
    return [child.id.lower() for child in ast.walk(node) if isinstance(child, ast.Name)]


def _normalised(name: str) -> bool:
    """x_hat, xhat, x_norm, x_normalized: the normalised input (dx_hat, its gradient, is not)."""
    return not name.startswith("d") and ("hat" in name or "norm" in name)


def _reduces(node: ast.AST) -> bool:
    return any(is_call_to(child, "sum", "mean") for child in ast.walk(node))


def _path(term: ast.AST) -> str | None:
    """Which path of the batchnorm graph a term of dx carries: 'mean', 'variance', or None (the direct one)."""
    names = _names(term)
    gradients = [name for name in names if name.startswith("d")]
    if any(part in name for name in gradients for part in ("var", "sigma", "std")):
        return "variance"
    if any("mu" in name or "mean" in name for name in gradients):
        return "mean"
    normalised = any(_normalised(name) for name in names)
    if normalised and (_reduces(term) or "dgamma" in names):
        return "variance"
    if not normalised and (_reduces(term) or "dbeta" in names):
        return "mean"
    return None


def _terms(node: ast.BinOp) -> list[tuple[type | None, ast.expr]]:
    """a - b + c as [(None, a), (Sub, b), (Add, c)]."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return _terms(node.left) + [(type(node.op), node.right)]
    return [(None, node)]


def _chain(terms: list[tuple[type | None, ast.expr]]) -> ast.expr:
    found = terms[0][1]
    for op, term in terms[1:]:
        found = ast.BinOp(found, op(), term)
    return found


class _DropPath(ast.NodeTransformer):
    """Every term of a sum or difference that carries the given path is left out (never the first one)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.dropped = 0

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        terms = _terms(node)
        if len(terms) < 2:
            return self.generic_visit(node)
        kept = [terms[0]] + [(op, term) for op, term in terms[1:] if _path(term) != self.path]
        self.dropped += len(terms) - len(kept)
        return _chain([(op, self.visit(term)) for op, term in kept])


def _dx_target(node: ast.AST) -> bool:
    """dx, dX, dx_group: the input's gradient (not dx_hat or dxmu, steps on the way to it)."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return len(targets) == 1 and isinstance(targets[0], ast.Name) and bool(INPUT_GRADIENT.match(targets[0].id))


def _without(node: ast.AST, path: str) -> ast.AST | None:
    if not _dx_target(node):
        return None
    dropping = _DropPath(path)
    changed = copy.deepcopy(node)
    changed.value = dropping.visit(changed.value)
    return changed if dropping.dropped else None


@register("norm-drop-mean-path", family="normalisation", nodes=(ast.Assign, ast.AugAssign),
          misconception="dx misses the path through the mean: the batch mean depends on every x, "
                        "so dx subtracts the mean of the upstream gradient (the dmu term).",
          examples=[("dx = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / N + dmu / N",
                     ["dx = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / N"]),
                    ("dx = gamma * istd / N * (N * dout - np.sum(dout, axis=0) - x_hat * np.sum(dout * x_hat, axis=0))",
                     ["dx = gamma * istd / N * (N * dout - x_hat * np.sum(dout * x_hat, axis=0))"]),
                    ("dx = inv * (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0))",
                     ["dx = inv * (dxhat - xhat * (dxhat * xhat).mean(axis=0))"]),
                    ("dx_hat = dout * gamma + dmu", []), ("dW = a + dmu", [])])
def drop_mean_path(node, names):
    """The term of dx that comes through the batch mean is dropped."""
    return _without(node, "mean")


@register("norm-drop-variance-path", family="normalisation", nodes=(ast.Assign, ast.AugAssign),
          misconception="dx misses the path through the variance: the batch variance depends on every x, "
                        "so dx subtracts x_hat times the mean of dx_hat * x_hat (the dvar term).",
          examples=[("dx = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mu) / N + dmu / N",
                     ["dx = dx_hat / np.sqrt(var + eps) + dmu / N"]),
                    ("dx = gamma * istd / N * (N * dout - dbeta - x_hat * dgamma)",
                     ["dx = gamma * istd / N * (N * dout - dbeta)"]),
                    ("dx = inv * (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0))",
                     ["dx = inv * (dxhat - dxhat.mean(axis=0))"])])
def drop_variance_path(node, names):
    """The term of dx that comes through the batch variance is dropped."""
    return _without(node, "variance")


def _variance_target(node: ast.Assign) -> bool:
    """var, sample_var, sigma2, std: a statistic of the batch (dvar, running_var are not computed from it here)."""
    if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
        return False
    name = node.targets[0].id.lower()
    return not name.startswith(("d", "running", "inv", "i")) and any(part in name for part in ("var", "sigma", "std"))


def _averaged(call: ast.Call) -> ast.expr | None:
    """E of np.mean(E, ...) or E.mean(...)."""
    function = call.func
    if isinstance(function, ast.Name) or (isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name)
                                          and function.value.id == "np"):
        return call.args[0] if call.args else None
    return function.value if isinstance(function, ast.Attribute) else None


class _Unbiased(ast.NodeTransformer):
    """mean(E) becomes sum(E) / (n - 1), written with sizes; sum(E) / N becomes sum(E) / (N - 1)."""

    def __init__(self) -> None:
        self.changed = 0

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        if isinstance(node.op, ast.Div) and is_call_to(node.left, "sum"):
            self.changed += 1
            return ast.BinOp(copy.deepcopy(node.left), ast.Div(), expr("(N - 1)", N=node.right))
        if isinstance(node.op, ast.Mult) and is_call_to(node.right, "sum") and isinstance(node.left, ast.BinOp) \
                and isinstance(node.left.op, ast.Div):
            self.changed += 1
            factor = ast.BinOp(copy.deepcopy(node.left.left), ast.Div(), expr("(N - 1)", N=node.left.right))
            return ast.BinOp(factor, ast.Mult(), copy.deepcopy(node.right))
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if is_call_to(node, "mean"):
            averaged = _averaged(node)
            if averaged is not None:
                self.changed += 1
                return expr("MEAN * (np.size(E) / (np.size(E) - np.size(MEAN)))", MEAN=node, E=averaged)
        return self.generic_visit(node)


@register("norm-variance-unbiased", family="normalisation", nodes=(ast.Call, ast.Assign),
          misconception="The batch variance divides by N, not N - 1: normalisation uses the biased variance (np.var's default).",
          examples=[("var = np.var(x, axis=0)", ["var = np.var(x, axis=0, ddof=1)"]),
                    ("std = x.std(axis=1, keepdims=True)", ["std = x.std(axis=1, keepdims=True, ddof=1)"]),
                    ("var = np.sum((x - mu) ** 2, axis=0) / N", ["var = np.sum((x - mu) ** 2, axis=0) / (N - 1)"]),
                    ("var = 1.0 / N * np.sum(sq, axis=0)", ["var = 1.0 / (N - 1) * np.sum(sq, axis=0)"]),
                    ("sample_var = np.mean((x - mu) ** 2, axis=0)",
                     ["sample_var = np.mean((x - mu) ** 2, axis=0) * (np.size((x - mu) ** 2) / "
                      "(np.size((x - mu) ** 2) - np.size(np.mean((x - mu) ** 2, axis=0))))"]),
                    ("v = np.var(x, ddof=0)", []), ("running_var = m * running_var + (1 - m) * np.mean(x)", [])])
def variance_unbiased(node, names):
    """The batch variance divides by N - 1 (np.var's ddof=1) instead of N."""
    if isinstance(node, ast.Call):
        if is_call_to(node, "var", "std") and not any(k.arg == "ddof" for k in node.keywords) and (
                node.args or isinstance(node.func, ast.Attribute)):
            changed = copy.deepcopy(node)
            changed.keywords.append(ast.keyword("ddof", ast.Constant(1)))
            return changed
        return None
    if not _variance_target(node):
        return None
    unbiased = _Unbiased()
    changed = unbiased.visit(copy.deepcopy(node.value))
    return ast.Assign(copy.deepcopy(node.targets), changed, None) if unbiased.changed else None


def _axes(call: ast.Call) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "axis":
            return keyword.value
    return call.args[1] if isinstance(call.func, ast.Attribute) and call.func.attr == "sum" and len(call.args) > 1 \
        and isinstance(call.func.value, ast.Name) and call.func.value.id == "np" else None


def _constant_axes(node: ast.expr | None) -> tuple[int, ...] | None:
    if isinstance(node, ast.Tuple) and all(isinstance(e, ast.Constant) and isinstance(e.value, int) for e in node.elts):
        return tuple(e.value for e in node.elts)
    return None


def _wrong_axes(axes: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Each axis left out in turn, and the batch axis 0 taken for the channel axis 1."""
    found = [tuple(a for a in axes if a != left_out) for left_out in axes] if len(axes) > 1 else []
    if 0 in axes and 1 not in axes:
        found.append(tuple(sorted(1 if a == 0 else a for a in axes)))
    return found


class _Axes(ast.NodeTransformer):
    """The sum over old axes sums over new ones; a sum reshaped like gamma keeps its dimensions instead, as a
    student who sums over the wrong axes with keepdims=True gets an array the reshape would refuse."""

    def __init__(self, old: tuple[int, ...], new: tuple[int, ...]) -> None:
        self.old, self.new = old, new

    def _summing(self, node: ast.AST) -> bool:
        return is_call_to(node, "sum") and _constant_axes(_axes(node)) == self.old

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if isinstance(node.func, ast.Attribute) and node.func.attr == "reshape" and self._summing(node.func.value):
            summed = self.visit(node.func.value)
            summed.keywords = [k for k in summed.keywords if k.arg != "keepdims"] + [ast.keyword("keepdims", ast.Constant(True))]
            return summed
        if self._summing(node):
            axis = ast.Constant(self.new[0]) if len(self.new) == 1 else ast.Tuple([ast.Constant(a) for a in self.new], ast.Load())
            for keyword in node.keywords:
                if keyword.arg == "axis":
                    keyword.value = axis
                    return node
            node.args[1] = axis
        return self.generic_visit(node)


@register("norm-parameter-axes", family="normalisation", nodes=(ast.Assign,),
          misconception="dgamma and dbeta sum over the wrong axes: gamma and beta have one entry per channel, "
                        "so sum over every axis but the channel axis 1 (N, H and W).",
          examples=[("dbeta = np.sum(dout, axis=(0, 2, 3))",
                     ["dbeta = np.sum(dout, axis=(2, 3))", "dbeta = np.sum(dout, axis=(0, 3))",
                      "dbeta = np.sum(dout, axis=(0, 2))", "dbeta = np.sum(dout, axis=(1, 2, 3))"]),
                    ("dgamma = (dout * x_hat).sum(axis=(0, 2), keepdims=True)",
                     ["dgamma = (dout * x_hat).sum(axis=2, keepdims=True)", "dgamma = (dout * x_hat).sum(axis=0, keepdims=True)",
                      "dgamma = (dout * x_hat).sum(axis=(1, 2), keepdims=True)"]),
                    ("dbeta = dout.sum(axis=(0, 2, 3)).reshape(gamma.shape)",
                     ["dbeta = dout.sum(axis=(2, 3), keepdims=True)", "dbeta = dout.sum(axis=(0, 3), keepdims=True)",
                      "dbeta = dout.sum(axis=(0, 2), keepdims=True)", "dbeta = dout.sum(axis=(1, 2, 3), keepdims=True)"]),
                    ("dgamma = np.sum(dout * x_hat, axis=0)", []), ("db = np.sum(dout, axis=(0, 2, 3))", [])])
def parameter_axes(node, names):
    """The axes dgamma or dbeta sum over lose one axis, or take the channel axis for the batch axis."""
    if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name) \
            or not node.targets[0].id.lower().startswith(("dgamma", "dbeta")):
        return None
    sums = [_constant_axes(_axes(call)) for call in ast.walk(node.value) if is_call_to(call, "sum")]
    axes = next((found for found in sums if found), None)
    if axes is None:
        return None
    return [ast.Assign(copy.deepcopy(node.targets), _Axes(axes, new).visit(copy.deepcopy(node.value)), None)
            for new in _wrong_axes(axes)]
