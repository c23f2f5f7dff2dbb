"""Window operators for conv and pooling layers: padding cropped, stride ignored, overlaps overwritten, max routed wrongly."""
from __future__ import annotations

import ast
import copy

from grader.mutation.operators.helpers import expr, is_call_to
from grader.mutation.operators.registry import register


def _lowered(node: ast.AST) -> str:
    return ast.unparse(node).lower()


def _is_pad(node: ast.AST) -> bool:
    """pad, P, padding, conv_param['pad']: the width of the zero border (a name, not arithmetic)."""
    return isinstance(node, (ast.Name, ast.Subscript, ast.Attribute)) and (
        "pad" in _lowered(node) or _lowered(node) == "p")


def _is_stride(node: ast.AST) -> bool:
    """stride, S, stride_h, sw, conv_param['stride']: the step between window starts."""
    return isinstance(node, (ast.Name, ast.Subscript, ast.Attribute)) and (
        "stride" in _lowered(node) or _lowered(node) in ("s", "sh", "sw", "sy", "sx"))


def _pieces(node: ast.Subscript) -> list[ast.expr]:
    return list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]


def _with_pieces(node: ast.Subscript, pieces: list[ast.expr]) -> ast.Subscript:
    index = ast.Tuple(pieces, ast.Load()) if isinstance(node.slice, ast.Tuple) else pieces[0]
    return ast.Subscript(copy.deepcopy(node.value), index, copy.deepcopy(node.ctx))


def _unpadded(piece: ast.expr) -> ast.expr | None:
    """pad:-pad for pad:pad + H, pad:H + pad or pad:Hp - pad (the same crop whenever pad > 0)."""
    if not (isinstance(piece, ast.Slice) and piece.step is None and piece.lower is not None
            and isinstance(piece.upper, ast.BinOp) and _is_pad(piece.lower)):
        return None
    lower, upper = ast.unparse(piece.lower), piece.upper
    added = isinstance(upper.op, ast.Add) and lower in (ast.unparse(upper.left), ast.unparse(upper.right))
    taken = isinstance(upper.op, ast.Sub) and ast.unparse(upper.right) == lower
    if added or taken:
        return ast.Slice(copy.deepcopy(piece.lower), ast.UnaryOp(ast.USub(), copy.deepcopy(piece.lower)), None)
    return None


@register("window-unpad-negative", family="window", nodes=(ast.Subscript,),
          misconception="dx is cropped with [pad:-pad], which is empty when pad is 0: crop with [pad:pad + H] instead.",
          examples=[("dx = dx_pad[:, :, pad:pad + H, pad:pad + W]", ["dx = dx_pad[:, :, pad:-pad, pad:-pad]"]),
                    ("dx = dxp[:, :, P:Hp - P, P:Wp - P]", ["dx = dxp[:, :, P:-P, P:-P]"]),
                    ("dx[n] = dx_pad[n, :, conv_param['pad']:H + conv_param['pad'], :]",
                     ["dx[n] = dx_pad[n, :, conv_param['pad']:-conv_param['pad'], :]"]),
                    ("w = x[:, :, i:i + HH]", []), ("dx = dx_pad[:, :, 1:-1, 1:-1]", [])])
def unpad_negative(node, names):
    """The crop pad:pad + H of the padded gradient becomes pad:-pad."""
    pieces = _pieces(node)
    changed = [_unpadded(piece) for piece in pieces]
    if any(piece is not None for piece in changed):
        return _with_pieces(node, [new or copy.deepcopy(old) for new, old in zip(changed, pieces)])
    return None


class _DropStride(ast.NodeTransformer):
    """i * stride (or stride * i) becomes i, and a slice's step :stride goes; inside subscripts too unless told
    to leave them to their own site."""

    def __init__(self, *, into_subscripts: bool) -> None:
        self.into_subscripts = into_subscripts
        self.dropped = 0

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        return self.generic_visit(node) if self.into_subscripts else node

    def visit_Slice(self, node: ast.Slice) -> ast.AST:
        if node.step is not None and _is_stride(node.step):
            self.dropped += 1
            node.step = None
        return self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        if isinstance(node.op, ast.Mult):
            for stride, start in ((node.right, node.left), (node.left, node.right)):
                if _is_stride(stride) and isinstance(start, (ast.Name, ast.Subscript)) and not _is_stride(start):
                    self.dropped += 1
                    return copy.deepcopy(start)
        return self.generic_visit(node)


def _add_at(node: ast.AST) -> bool:
    """np.add.at(dx, index, values): the unbuffered scatter that adds at repeated indices."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "at" \
        and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "add" and len(node.args) == 3


@register("window-ignore-stride", family="window", nodes=(ast.Subscript, ast.Assign, ast.Call),
          misconception="The window of output (i, j) starts at (i*stride, j*stride): with the stride left out, "
                        "the gradient lands in the wrong place whenever stride > 1.",
          examples=[("dx_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += w[f] * dout[n, f, i, j]",
                     ["dx_pad[n, :, i:i + HH, j:j + WW] += w[f] * dout[n, f, i, j]"]),
                    ("h0 = i * S", ["h0 = i"]),
                    ("dx[n, c, stride * i + a, stride * j + b] += g", ["dx[n, c, i + a, j + b] += g"]),
                    ("dp[:, :, i:i + stride * rows:stride] += g", ["dp[:, :, i:i + rows] += g"]),
                    ("np.add.at(dx, (n, c, r * stride + at // w), dout)", ["np.add.at(dx, (n, c, r + at // w), dout)"]),
                    ("y = x[i * 2]", []), ("h1 = h0 + HH", [])])
def ignore_stride(node, names):
    """A window start i * stride becomes i (and a strided slice's step goes)."""
    if isinstance(node, ast.Subscript):
        dropping = _DropStride(into_subscripts=True)
        changed = dropping.visit(copy.deepcopy(node.slice))
        if dropping.dropped:
            return ast.Subscript(copy.deepcopy(node.value), changed, copy.deepcopy(node.ctx))
        return None
    if isinstance(node, ast.Call):
        if not _add_at(node):
            return None
        dropping = _DropStride(into_subscripts=False)
        changed = copy.deepcopy(node)
        changed.args[1] = dropping.visit(changed.args[1])
        return changed if dropping.dropped else None
    if all(isinstance(target, (ast.Name, ast.Tuple)) for target in node.targets):
        dropping = _DropStride(into_subscripts=False)
        changed = dropping.visit(copy.deepcopy(node.value))
        if dropping.dropped:
            return ast.Assign(copy.deepcopy(node.targets), changed, None)
    return None


def _window_target(target: ast.AST) -> bool:
    """dx[n, :, h:h + HH] or dx[n, c, h + r, w + s]: a window (or a place in one) of a gradient array."""
    if not isinstance(target, ast.Subscript):
        return False
    return any((isinstance(piece, ast.Slice) and (piece.lower is not None or piece.upper is not None))
               or isinstance(piece, ast.BinOp) for piece in _pieces(target))


@register("window-assign-not-accumulate", family="window", nodes=(ast.AugAssign, ast.Assign, ast.Expr),
          misconception="dx is wrong where windows overlap: accumulate with += (or np.add.at) instead of =.",
          examples=[("dx_pad[n, :, h:h + HH, w:w + WW] += w[f] * dout[n, f, i, j]",
                     ["dx_pad[n, :, h:h + HH, w:w + WW] = w[f] * dout[n, f, i, j]"]),
                    ("dx[n, c, hs + r, ws + s] += dout[n, c, i, j]", ["dx[n, c, hs + r, ws + s] = dout[n, c, i, j]"]),
                    ("dx[:, :, a:b, c:d] = dx[:, :, a:b, c:d] + g", ["dx[:, :, a:b, c:d] = g"]),
                    ("np.add.at(dx, (n, c, rows, columns), dout)", ["dx[n, c, rows, columns] = dout"]),
                    ("dw[f] += x_pad[n, :, a:b, c:d] * dout[n, f, i, j]", []), ("db += dout.sum()", [])])
def assign_not_accumulate(node, names):
    """dx[window] += g becomes dx[window] = g (and np.add.at(dx, index, g) becomes dx[index] = g)."""
    if isinstance(node, ast.Expr):
        if _add_at(node.value):
            target, index, value = (copy.deepcopy(argument) for argument in node.value.args)
            return ast.Assign([ast.Subscript(target, index, ast.Store())], value, None)
        return None
    if isinstance(node, ast.AugAssign):
        if isinstance(node.op, ast.Add) and _window_target(node.target):
            return ast.Assign([copy.deepcopy(node.target)], copy.deepcopy(node.value), None)
        return None
    if len(node.targets) == 1 and _window_target(node.targets[0]) and isinstance(node.value, ast.BinOp) \
            and isinstance(node.value.op, ast.Add) and ast.unparse(node.value.left) == ast.unparse(node.targets[0]):
        return ast.Assign(copy.deepcopy(node.targets), copy.deepcopy(node.value.right), None)
    return None


def _is_max(node: ast.AST) -> bool:
    """np.max(window), window.max(), np.amax(...), or a name that holds one (max_val, window_max)."""
    return is_call_to(node, "max", "amax") or (isinstance(node, ast.Name) and "max" in node.id.lower())


def _max_mask(node: ast.Compare) -> tuple[ast.expr, ast.expr] | None:
    """(window, its max) for window == np.max(window), in either order."""
    if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq):
        return None
    left, right = node.left, node.comparators[0]
    if _is_max(right) and not _is_max(left):
        return left, right
    if _is_max(left) and not _is_max(right):
        return right, left
    return None


def _axis(call: ast.AST) -> bool:
    return isinstance(call, ast.Call) and (len(call.args) > 1 or any(k.arg == "axis" for k in call.keywords))


WINDOWED = ("window", "patch", "pool", "block", "region")


def _argmax_of_window(node: ast.Call) -> tuple[ast.expr, bool] | None:
    """(window, flat) for np.argmax(window) or window.argmax() (flat), or an argmax over the last axis
    (axis=-1) of a stack of flattened windows; None for any other argmax (a prediction's, say)."""
    if not is_call_to(node, "argmax"):
        return None
    function = node.func
    if isinstance(function, ast.Attribute) and not (isinstance(function.value, ast.Name) and function.value.id == "np"):
        window, rest = function.value, list(node.args)
    elif node.args:
        window, rest = node.args[0], list(node.args[1:])
    else:
        return None
    axes = rest + [k.value for k in node.keywords if k.arg == "axis"]
    if not any(part in _lowered(window) for part in WINDOWED) or len(axes) > 1:
        return None
    if not axes:
        return window, True
    return (window, False) if isinstance(axes[0], ast.UnaryOp) and ast.unparse(axes[0]) == "-1" else None


@register("pool-route-every-position", family="window", nodes=(ast.Compare, ast.Call),
          misconception="Max pooling passes the gradient to the maximum of each window only, "
                        "not to every position of the window.",
          examples=[("mask = window == np.max(window)", ["mask = np.ones_like(window, dtype=bool)"]),
                    ("dx[n, c, a:b, d:e] += (x[n, c, a:b, d:e] == m_max) * dout[n, c, i, j]",
                     ["dx[n, c, a:b, d:e] += np.ones_like(x[n, c, a:b, d:e], dtype=bool) * dout[n, c, i, j]"]),
                    ("r, s = np.unravel_index(np.argmax(window), window.shape)",
                     ["r, s = np.unravel_index(np.arange(np.size(window)), window.shape)"]),
                    ("at = windows.argmax(axis=-1)",
                     ["at = np.arange(windows.shape[-1]).reshape((-1,) + (1,) * (windows.ndim - 1))"]),
                    ("mask = x == y", []), ("predicted = np.argmax(scores, axis=1)", [])])
def route_every_position(node, names):
    """The max-pooling mask window == max(window) becomes all ones; the argmax of a window becomes every index."""
    if isinstance(node, ast.Call):
        found = _argmax_of_window(node)
        if found is None:
            return None
        window, flat = found
        if flat:
            return expr("np.arange(np.size(WINDOW))", WINDOW=window)
        # An axis in front of the stack's own: the scatter that used one index per window adds at each index.
        return expr("np.arange(WINDOW.shape[-1]).reshape((-1,) + (1,) * (WINDOW.ndim - 1))", WINDOW=window)
    found = _max_mask(node)
    if found:
        return expr("np.ones_like(WINDOW, dtype=bool)", WINDOW=found[0])
    return None


@register("pool-route-first-max", family="window", nodes=(ast.Compare,),
          misconception="Max pooling passes the gradient to every position that holds the maximum, not only to the first.",
          examples=[("mask = window == np.max(window)",
                     ["mask = np.arange(np.size(window)).reshape(np.shape(window)) == np.argmax(window)"]),
                    ("mask = pool.max() == pool",
                     ["mask = np.arange(np.size(pool)).reshape(np.shape(pool)) == np.argmax(pool)"]),
                    ("mask = w == np.max(w, axis=(2, 3), keepdims=True)", [])])
def route_first_max(node, names):
    """The max-pooling mask window == max(window) becomes a one-hot of the first maximum."""
    found = _max_mask(node)
    if found and not _axis(found[1]):
        return expr("np.arange(np.size(WINDOW)).reshape(np.shape(WINDOW)) == np.argmax(WINDOW)", WINDOW=found[0])
    return None
