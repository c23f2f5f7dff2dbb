"""Loss operators for linear classifiers: softmax's -1 at the correct class, the SVM hinge, the regularisation factor."""
from __future__ import annotations

import ast
import copy

from grader.mutation.operators.helpers import expr, is_call_to
from grader.mutation.operators.registry import register


LABELS = ("y", "labels", "label", "targets", "y_true")


def _mentions_label(node: ast.AST) -> bool:
    """The node uses the labels: y, y[i], labels."""
    return any(isinstance(child, ast.Name) and child.id in LABELS for child in ast.walk(node))


def _label_index(node: ast.AST) -> bool:
    """x[np.arange(N), y], dW[:, y[i]]: an element or column picked by the label."""
    return isinstance(node, ast.Subscript) and _mentions_label(node.slice)


def _is_constant(node: ast.AST, value: float) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _is_constant(node.operand, -value)
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool) \
        and node.value == value


def _named(node: ast.AST, *parts: str) -> bool:
    """A name (or the array a subscript picks from) that contains one of parts."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return isinstance(node, ast.Name) and any(part in node.id.lower() for part in parts)


def _binds_margins(names: frozenset) -> bool:
    return any("margin" in name.lower() for name in names)


def _indicator(node: ast.AST) -> bool:
    """(j == y[i]), int(j == y[i]), one_hot, Y_onehot, np.eye(C)[y]: 1 at the correct class, else 0."""
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        node = node.args[0]
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
        return _mentions_label(node)
    if isinstance(node, ast.Subscript) and is_call_to(node.value, "eye"):
        return _mentions_label(node.slice)
    return isinstance(node, ast.Name) and any(part in node.id.lower() for part in ("hot", "indicator"))


@register("softmax-drop-correct-class", family="loss", nodes=(ast.AugAssign, ast.BinOp),
          misconception="The softmax gradient misses the -1 at the correct class: d(loss)/d(scores) = probs - one_hot(y).",
          examples=[("dscores[np.arange(N), y] -= 1", ["pass"]),
                    ("dW[:, j] += (p[j] - (j == y[i])) * X[i]", ["dW[:, j] += p[j] * X[i]"]),
                    ("dW[:, j] += (p[j] - 1) * X[i]", ["dW[:, j] += p[j] * X[i]"]),
                    ("dW[:, j] += (probability - 1) * X[i]", ["dW[:, j] += probability * X[i]"]),
                    ("dS = (probs - one_hot) / N", ["dS = probs / N"]),
                    ("dW[:, y[i]] -= X[i]", ["pass"]), ("margin = 0\ndW[:, y[i]] -= X[i]", []),
                    ("n = H - 1", [])])
def drop_correct_class(node, names):
    """The -1 at the correct class of the softmax gradient is dropped."""
    if isinstance(node, ast.AugAssign):
        one = (isinstance(node.op, ast.Sub) and _is_constant(node.value, 1)) or (
            isinstance(node.op, ast.Add) and _is_constant(node.value, -1))
        if _label_index(node.target) and isinstance(node.op, (ast.Add, ast.Sub)) and (
                one or (isinstance(node.op, ast.Sub) and not _binds_margins(names))):
            return ast.Pass()
        return None
    if not isinstance(node.op, ast.Sub):
        return None
    if _indicator(node.right) or (_is_constant(node.right, 1) and isinstance(node.left, (ast.Subscript, ast.Name)) and (
            _label_index(node.left) or _named(node.left, "prob", "softmax") or ast.unparse(node.left).split("[")[0] == "p")):
        return copy.deepcopy(node.left)
    return None


def _margin_sum(node: ast.AST) -> bool:
    """np.sum(margins) or margins.sum(), with or without axis=1: the hinge losses added up."""
    if not is_call_to(node, "sum"):
        return False
    summed = node.args[0] if isinstance(node.func, ast.Name) or ast.unparse(node.func.value) == "np" else node.func.value
    return _named(summed, "margin") and all(k.arg in ("axis",) for k in node.keywords)


class _CountCorrectClass(ast.NodeTransformer):
    """sum(margins) becomes sum(margins) + N (and a sum over axis=1 gets + 1): each correct class's margin of 1."""

    def __init__(self) -> None:
        self.changed = 0

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if not _margin_sum(node):
            return self.generic_visit(node)
        self.changed += 1
        summed = node.args[0] if isinstance(node.func, ast.Name) or ast.unparse(node.func.value) == "np" else node.func.value
        if any(k.arg == "axis" for k in node.keywords) or len(node.args) > 1:
            return expr("(SUM + 1)", SUM=node)
        return expr("(SUM + np.shape(MARGINS)[0])", SUM=node, MARGINS=summed)


@register("svm-margin-correct-class", family="loss", nodes=(ast.If, ast.Assign, ast.AugAssign),
          misconception="The SVM loss counts the correct class: its margin is always 1, so skip j == y[i] "
                        "(or set margins[np.arange(N), y] = 0).",
          examples=[("for j in range(C):\n    if j == y[i]:\n        continue\n    loss += 1",
                     ["for j in range(C):\n    pass\n    loss += 1"]),
                    ("if j != y[i]:\n    loss += m", ["if True:\n    loss += m"]),
                    ("margins[np.arange(N), y] = 0", ["pass"]),
                    ("loss = margins.sum() / N", ["loss = (margins.sum() + np.shape(margins)[0]) / N"]),
                    ("loss = np.mean(np.sum(margins, axis=1))", ["loss = np.mean(np.sum(margins, axis=1) + 1)"]),
                    ("if j == y[i]:\n    d = 1", []), ("dx[np.arange(N), y] = 0", []), ("s = margins.sum()", [])])
def margin_correct_class(node, names):
    """The correct class is no longer skipped when the SVM margins are summed."""
    if isinstance(node, ast.If):
        test = node.test
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and _mentions_label(test)):
            return None
        if isinstance(test.ops[0], ast.Eq) and len(node.body) == 1 and isinstance(node.body[0], ast.Continue) \
                and not node.orelse:
            return ast.Pass()
        if isinstance(test.ops[0], ast.NotEq):
            return ast.If(ast.Constant(True), copy.deepcopy(node.body), copy.deepcopy(node.orelse))
        return None
    target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else getattr(node, "target", None)
    if isinstance(node, ast.Assign) and _label_index(target) and _named(target, "margin") and _is_constant(node.value, 0):
        return ast.Pass()
    # Where the gradient is built apart from the summed margins (it is right), the loss alone counts them.
    if isinstance(target, ast.Name) and "loss" in target.id.lower():
        counting = _CountCorrectClass()
        changed = copy.deepcopy(node)
        changed.value = counting.visit(changed.value)
        return changed if counting.changed else None
    return None


def _hinge_argument(node: ast.Call) -> ast.expr | None:
    """E of np.maximum(0, E), np.maximum(E, 0), np.clip(E, 0, None) or E.clip(min=0)."""
    if is_call_to(node, "maximum") and len(node.args) == 2:
        first, second = node.args
        return second if _is_constant(first, 0) else first if _is_constant(second, 0) else None
    if is_call_to(node, "clip"):
        lower = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg in ("a_min", "min")), None)
        return node.args[0] if lower is not None and _is_constant(lower, 0) and node.args else None
    return None


def _about_scores(node: ast.AST, names: frozenset) -> bool:
    return _binds_margins(names) or any(isinstance(child, ast.Name) and "score" in child.id.lower()
                                        for child in ast.walk(node))


@register("svm-drop-hinge", family="loss", nodes=(ast.Call, ast.If, ast.Assign),
          misconception="The SVM loss drops max(0, .): a class whose margin is negative adds nothing to the loss or the gradient.",
          examples=[("margins = np.maximum(0, scores - correct[:, None] + 1)", ["margins = scores - correct[:, None] + 1"]),
                    ("if margin > 0:\n    loss += margin", ["if True:\n    loss += margin"]),
                    ("margins[margins < 0] = 0", ["pass"]),
                    ("out = np.maximum(0, x)", []), ("if x > 0:\n    y = 1", [])])
def drop_hinge(node, names):
    """max(0, margin) becomes the margin itself."""
    if isinstance(node, ast.Call):
        argument = _hinge_argument(node)
        if argument is not None and _about_scores(argument, names):
            return copy.deepcopy(argument)
        return None
    if isinstance(node, ast.If):
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Gt, ast.GtE)) \
                and _is_constant(test.comparators[0], 0) and _named(test.left, "margin"):
            return ast.If(ast.Constant(True), copy.deepcopy(node.body), copy.deepcopy(node.orelse))
        return None
    target = node.targets[0] if len(node.targets) == 1 else None
    if isinstance(target, ast.Subscript) and _named(target, "margin") and isinstance(target.slice, ast.Compare) \
            and _is_constant(node.value, 0):
        return ast.Pass()
    return None


def _factors(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _factors(node.left) + _factors(node.right)
    return [node]


def _product(factors: list[ast.expr]) -> ast.expr:
    found = copy.deepcopy(factors[0])
    for factor in factors[1:]:
        found = ast.BinOp(found, ast.Mult(), copy.deepcopy(factor))
    return found


def _is_reg(node: ast.AST) -> bool:
    """reg, self.reg, lambda_, lam, reg_strength."""
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return "reg" in name.lower() or name.lower().startswith("lam")


def _is_weight(node: ast.AST) -> bool:
    """W, W1, self.params['W2']: a weight matrix itself (not a sum over it)."""
    if isinstance(node, ast.Name):
        return node.id.startswith("W")
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value.startswith("W")
    return isinstance(node, ast.Attribute) and node.attr.startswith("W")


@register("reg-gradient-factor", family="regularisation", nodes=(ast.BinOp,),
          misconception="The regularisation gradient does not match its loss: reg * sum(W**2) has gradient 2 * reg * W, "
                        "0.5 * reg * sum(W**2) has reg * W.",
          examples=[("dW += 2 * reg * W", ["dW += reg * W"]), ("dW = dW / N + reg * W", ["dW = dW / N + 2 * reg * W"]),
                    ("g = reg * 2 * self.params['W1']", ["g = reg * self.params['W1']"]),
                    ("loss += reg * np.sum(W * W)", []), ("y = 2 * x * W", [])])
def gradient_factor(node, names):
    """The regularisation gradient's factor 2 is dropped, or added where there is none."""
    if not isinstance(node.op, ast.Mult):
        return None
    factors = _factors(node)
    if not (any(_is_reg(f) for f in factors) and any(_is_weight(f) for f in factors)):
        return None
    twos = [index for index, factor in enumerate(factors) if _is_constant(factor, 2)]
    if twos:
        return _product([factor for index, factor in enumerate(factors) if index != twos[0]])
    if not any(isinstance(f, ast.Constant) for f in factors):
        return _product([ast.Constant(2), *factors])
    return None
