"""Term operators for any numpy loss: an update dropped, flipped or doubled, a 1/N, 1/2, square or subtracted term dropped."""
from __future__ import annotations

import ast
import copy

from grader.mutation.operators.registry import register

# None of these but SPECS_ONLY's applies to the built-in backward passes (they have no augmented assignment, no
# 0.5, no power, no `x / n` but 1/m, and read m from shape[1]), so the built-in catalogues keep their mutants.


@register("term-drop-update", family="arithmetic", nodes=(ast.AugAssign,),
          misconception="A step that updates a value in place is missing: a term such as the regularisation's "
                        "gradient, the softmax's normalisation or the -1 at the true class is left out.",
          examples=[("dW += reg * W", ["pass"]), ("p /= np.sum(p, axis=1, keepdims=True)", ["pass"]),
                    ("dW = dW + reg * W", [])])
def drop_update(node, names):
    """An in-place update (x += ..., x -= ..., x *= ..., x /= ...) is left out."""
    return ast.Pass()


@register("term-flip-update", family="arithmetic", nodes=(ast.AugAssign,),
          misconception="An in-place update goes the wrong way: += and -= (or *= and /=) are exchanged.",
          examples=[("dW += reg * W", ["dW -= reg * W"]), ("d[i, y] -= 1", ["d[i, y] += 1"]),
                    ("p /= s", ["p *= s"]), ("x **= 2", [])])
def flip_update(node, names):
    """+= becomes -= and -= becomes +=; *= becomes /= and /= becomes *=."""
    swapped = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}.get(type(node.op))
    if swapped:
        return ast.AugAssign(copy.deepcopy(node.target), swapped(), copy.deepcopy(node.value))


def _count(node: ast.AST) -> bool:
    """A divisor that counts something: a name (N, num_train) or a shape entry (X.shape[0])."""
    return isinstance(node, ast.Name) or (
        isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "shape")


@register("scale-drop-count", family="scale", nodes=(ast.BinOp,),
          misconception="The division by the number of examples is missing: the loss is a mean over the N "
                        "examples, so its gradient is divided by N too.",
          examples=[("dW = X.T.dot(d) / num_train", ["dW = X.T.dot(d)"]),
                    ("loss = np.sum(losses) / X.shape[0]", ["loss = np.sum(losses)"]),
                    ("db = 1.0 / m * s", []), ("p = e / np.sum(e)", [])])
def drop_count(node, names):
    """A division of a term by a count (x / N) is dropped."""
    if isinstance(node.op, ast.Div) and _count(node.right) and not isinstance(node.left, ast.Constant):
        return copy.deepcopy(node.left)


def _half(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0.5 and not isinstance(node.value, bool)


@register("scale-drop-half", family="scale", nodes=(ast.BinOp,),
          misconception="The factor 1/2 is dropped: 0.5 * reg * sum(W**2) has the gradient reg * W, so the loss "
                        "and its gradient must follow the same convention.",
          examples=[("loss += 0.5 * reg * np.sum(W * W)", ["loss += reg * np.sum(W * W)"]),
                    ("r = x * 0.5", ["r = x"]), ("r = 2 * x", [])])
def drop_half(node, names):
    """A factor 0.5 is dropped."""
    if isinstance(node.op, ast.Mult) and _half(node.left):
        return copy.deepcopy(node.right)
    if isinstance(node.op, ast.Mult) and _half(node.right):
        return copy.deepcopy(node.left)


@register("scale-examples-axis", family="scale", nodes=(ast.Subscript,),
          misconception="The number of examples is read from the wrong axis: with one example per row, "
                        "N = X.shape[0], and X.shape[1] is the number of features.",
          examples=[("num_train = X.shape[0]", ["num_train = X.shape[1]"]), ("m = X.shape[1]", [])])
def examples_axis(node, names):
    """x.shape[0] becomes x.shape[1]."""
    if isinstance(node.value, ast.Attribute) and node.value.attr == "shape" \
            and isinstance(node.slice, ast.Constant) and node.slice.value == 0:
        return ast.Subscript(copy.deepcopy(node.value), ast.Constant(1), copy.deepcopy(node.ctx))


@register("term-double-update", family="arithmetic", nodes=(ast.AugAssign,),
          misconception="A term added in place counts twice: the gradient of 0.5 * reg * sum(W**2) is reg * W, "
                        "and 2 * reg * W belongs to the loss reg * sum(W**2).",
          examples=[("dW += reg * W", ["dW += 2 * (reg * W)"]), ("x *= 2", [])])
def double_update(node, names):
    """x += v becomes x += 2 * v (and x -= v, x -= 2 * v)."""
    if isinstance(node.op, (ast.Add, ast.Sub)):
        return ast.AugAssign(copy.deepcopy(node.target), node.op,
                             ast.BinOp(ast.Constant(2), ast.Mult(), copy.deepcopy(node.value)))


@register("term-drop-square", family="arithmetic", nodes=(ast.BinOp,),
          misconception="A square is missing: tanh's derivative is 1 - tanh(z)**2 (1 - A**2 from the activation A), "
                        "and an L2 penalty sums the squares of the weights.",
          examples=[("dZ1 = dA1 * (1 - A1 ** 2)", ["dZ1 = dA1 * (1 - A1)"]), ("y = x ** 3", [])])
def drop_square(node, names):
    """x ** 2 becomes x."""
    if isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) and node.right.value == 2:
        return copy.deepcopy(node.left)


# Operators a built-in backward pass has sites for: they make spec assignments' mutants only, so the
# built-in catalogues (committed under mutants/) keep their mutants and numbering.
SPECS_ONLY = ("term-drop-subtracted",)


@register("term-drop-subtracted", family="arithmetic", nodes=(ast.BinOp,),
          misconception="A subtracted term is missing: the softmax cross-entropy's gradient is the probabilities "
                        "minus the one-hot labels (A - Y), and tanh's derivative is 1 - A**2.",
          examples=[("dZ2 = A2 - Y", ["dZ2 = A2"]), ("d = 1 - A ** 2", ["d = 1"]), ("k = 'a' + 'b'", [])])
def drop_subtracted(node, names):
    """a - b becomes a."""
    if isinstance(node.op, ast.Sub):
        return copy.deepcopy(node.left)
