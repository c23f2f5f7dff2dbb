"""Mutation operators: small pure functions over Python's ast that plant one known backprop bug each."""
from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from typing import Callable, Sequence, Union

# An operator looks at one node (with the names the function binds) and returns its replacement,
# several alternative replacements, or None when it does not apply there.
Replacement = Union[ast.AST, Sequence[ast.AST], None]
OperatorFunction = Callable[[ast.AST, frozenset], Replacement]

LAYERED = re.compile(r"^([A-Za-z_]*?)(\d+)$")
GRADIENT_TARGET = re.compile(r"^d[A-Za-z]")
PARAMETER_GRADIENT = re.compile(r"^d[Wb]")
CANARY = "zero-all-gradients"


@dataclass(frozen=True)
class Example:
    """An input snippet and the source of every mutant the operator makes from it, in occurrence order."""

    source: str
    expected: tuple[str, ...]


@dataclass(frozen=True)
class Operator:
    """One mutation operator: id, family, the student-facing misconception, and worked examples."""

    id: str
    family: str
    description: str
    misconception: str
    node_types: tuple[type, ...]
    function: OperatorFunction
    examples: tuple[Example, ...]

    def __post_init__(self) -> None:
        if not self.description or not self.misconception:
            raise ValueError(f"operator {self.id} needs a description and a misconception")
        if not self.examples:
            raise ValueError(f"operator {self.id} needs at least one example")

    def replacements(self, node: ast.AST, names: frozenset) -> list[ast.AST]:
        """Every replacement of node this operator makes; empty when it does not apply."""
        if not isinstance(node, self.node_types):
            return []
        found = self.function(node, names)
        if found is None:
            return []
        found = [found] if isinstance(found, ast.AST) else list(found)
        original = ast.dump(node)
        # Replacements take the node's position, so they unparse and report like the code they replace.
        return [ast.fix_missing_locations(ast.copy_location(replacement, node))
                for replacement in found if ast.dump(replacement) != original]


REGISTRY: dict[str, Operator] = {}


def register(id: str, *, family: str, misconception: str, nodes: tuple[type, ...],
             examples: Sequence[tuple[str, Sequence[str]]]) -> Callable[[OperatorFunction], OperatorFunction]:
    """Add the decorated function to REGISTRY; its docstring's first line is the description."""
    def decorate(function: OperatorFunction) -> OperatorFunction:
        if id in REGISTRY:
            raise ValueError(f"operator {id} registered twice")
        description = (function.__doc__ or "").strip().splitlines()[0] if function.__doc__ else ""
        REGISTRY[id] = Operator(id=id, family=family, description=description, misconception=misconception,
                                node_types=nodes, function=function,
                                examples=tuple(Example(source, tuple(expected)) for source, expected in examples))
        return function
    return decorate


# --- Applying operators -------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """One place an operator applies: the node's index in pre-order and the replacement made there."""

    operator: str
    occurrence: int
    index: int
    original: ast.AST
    replacement: ast.AST


def preorder(tree: ast.AST) -> list[tuple[ast.AST, ast.AST | None, str | None, int | None]]:
    """Every node in source order with its parent, the parent's field and the index within it."""
    found: list[tuple[ast.AST, ast.AST | None, str | None, int | None]] = [(tree, None, None, None)]

    def visit(parent: ast.AST) -> None:
        for field, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for index, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        found.append((child, parent, field, index))
                        visit(child)
            elif isinstance(value, ast.AST):
                found.append((value, parent, field, None))
                visit(value)

    visit(tree)
    return found


def bound_names(tree: ast.AST) -> frozenset:
    """The names a piece of code binds: arguments, assignment and loop targets."""
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    names |= {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
    return frozenset(names)


def sites(operator: Operator, tree: ast.AST, *, names: frozenset | None = None,
          nodes: list | None = None) -> list[Site]:
    """Every site of operator in tree, numbered 1, 2, ... in source order (nodes: preorder(tree), if at hand)."""
    names = bound_names(tree) if names is None else names
    found = []
    for index, (node, _, _, _) in enumerate(nodes or preorder(tree)):
        for replacement in operator.replacements(node, names):
            found.append(Site(operator.id, len(found) + 1, index, node, replacement))
    return found


def mutated_source(tree: ast.AST, site: Site, *, nodes: list | None = None) -> str:
    """ast.unparse of tree with the site's node replaced, without copying the tree.

    The replacement is swapped in for the time of unparsing and swapped back, so tree is unchanged
    afterwards; nodes may pass preorder(tree) when it is already at hand.
    """
    _, parent, field, position = (nodes or preorder(tree))[site.index]
    original = getattr(parent, field) if position is None else getattr(parent, field)[position]
    if original is not site.original:
        raise ValueError(f"site {site.operator}-{site.occurrence} does not belong to this tree")
    try:
        if position is None:
            setattr(parent, field, site.replacement)
        else:
            getattr(parent, field)[position] = site.replacement
        return ast.unparse(tree)
    finally:
        if position is None:
            setattr(parent, field, original)
        else:
            getattr(parent, field)[position] = original


def mutants_of(source: str, operator: Operator) -> list[str]:
    """The source of every mutant operator makes from source (used by the examples and their test)."""
    tree = ast.parse(source)
    return [mutated_source(tree, site) for site in sites(operator, tree)]


# --- Small helpers the operators share --------------------------------------------------------


def expr(template: str, **holes: ast.AST) -> ast.expr:
    """Parse an expression template, filling every Name called like a hole with a copy of its node."""
    class Fill(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return copy.deepcopy(holes[node.id]) if node.id in holes else node

    return Fill().visit(ast.parse(template, mode="eval").body)


def layer(name: str) -> tuple[str, int] | None:
    """('W', 2) for 'W2'; None for a name without a layer number."""
    match = LAYERED.match(name)
    return (match.group(1), int(match.group(2))) if match else None


def neighbour(name: str, names: frozenset, *, prefer: int = -1) -> str | None:
    """The same role one layer away (prefer -1: the previous layer, else the next) if the code binds it."""
    parts = layer(name)
    if parts is None:
        return None
    prefix, number = parts
    for step in (prefer, -prefer):
        candidate = f"{prefix}{number + step}"
        if candidate in names:
            return candidate
    return None


def is_one_over_m(node: ast.AST) -> bool:
    return (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
            and isinstance(node.left, ast.Constant) and node.left.value == 1
            and isinstance(node.right, ast.Name) and node.right.id == "m")


def over_m(node: ast.BinOp) -> bool:
    """True for 1/m * x and x / m (1/m itself aside): a term that divides by m once."""
    return (isinstance(node.op, ast.Mult) and is_one_over_m(node.left)) or (
        isinstance(node.op, ast.Div) and isinstance(node.right, ast.Name) and node.right.id == "m"
        and not is_one_over_m(node))


def is_call_to(node: ast.AST, *names: str) -> bool:
    """True for np.<name>(...) or <name>(...)."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr in names) or (isinstance(func, ast.Name) and func.id in names)


def gradient_assignment(node: ast.Assign, pattern: re.Pattern = GRADIENT_TARGET) -> bool:
    """An assignment of one gradient: dW2 = ..., or grads[...] = ..."""
    if len(node.targets) != 1:
        return False
    target = node.targets[0]
    if isinstance(target, ast.Name):
        return bool(pattern.match(target.id))
    return isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and "grad" in target.value.id


def with_value(node: ast.Assign, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=copy.deepcopy(node.targets), value=value, type_comment=None)


def contains_compare(node: ast.AST) -> bool:
    return any(isinstance(child, ast.Compare) for child in ast.walk(node))


def zero_compare(node: ast.AST) -> bool:
    """x > 0, x >= 0, x <= 0 or x < 0."""
    return (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.comparators[0], ast.Constant)
            and node.comparators[0].value == 0)


def arraylike(node: ast.AST) -> bool:
    """An operand that is an array, not a scalar factor such as 1/m or 2."""
    if isinstance(node, ast.Name):
        return node.id != "m"
    return isinstance(node, (ast.Attribute, ast.Subscript, ast.Call))


def is_text(node: ast.AST) -> bool:
    """A string constant, or a str(...) call: + joins text there, it is not arithmetic."""
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str")


# --- scale ------------------------------------------------------------------------------------
# The planted operators come first, so when another operator makes the same gradients, the planted
# one is the original and the other the duplicate.


@register("scale-double-gradient", family="scale", nodes=(ast.Assign,),
          misconception="This gradient is twice as large as it should be: a stray factor of 2 multiplies it.",
          examples=[("dW2 = 1./m * np.dot(dZ2, A1.T)", ["dW2 = 1.0 / m * np.dot(dZ2, A1.T) * 2"]),
                    ("m = X.shape[1]", [])])
def double_gradient(node, names):
    """A gradient is multiplied by 2."""
    if gradient_assignment(node):
        return with_value(node, expr("VALUE * 2", VALUE=node.value))


@register("scale-quadruple-m", family="scale", nodes=(ast.BinOp,),
          misconception="The 1/m factor became 4/m: this gradient is 4 times too large; look at the 1/m factor.",
          examples=[("db1 = 1./m * np.sum(dZ1, axis=1, keepdims=True)",
                     ["db1 = 4.0 / m * np.sum(dZ1, axis=1, keepdims=True)"]),
                    ("y = 1 / n", [])])
def quadruple_m(node, names):
    """1/m becomes 4/m."""
    if is_one_over_m(node):
        return ast.BinOp(ast.Constant(type(node.left.value)(4)), ast.Div(), copy.deepcopy(node.right))


@register("scale-double-m", family="scale", nodes=(ast.BinOp,),
          misconception="The 1/m factor became 2/m: this gradient is twice too large; look at the 1/m factor.",
          examples=[("dW3 = 1./m * np.dot(dZ3, A2.T)", ["dW3 = 2.0 / m * np.dot(dZ3, A2.T)"])])
def double_m(node, names):
    """1/m becomes 2/m."""
    if is_one_over_m(node):
        return ast.BinOp(ast.Constant(type(node.left.value)(2)), ast.Div(), copy.deepcopy(node.right))


@register("scale-drop-m", family="scale", nodes=(ast.BinOp,),
          misconception="The 1/m factor is missing: the cost averages over the m examples, so its gradient does too.",
          examples=[("dW1 = 1./m * np.dot(dZ1, X.T)", ["dW1 = np.dot(dZ1, X.T)"]),
                    ("db = np.sum(dZ, axis=1, keepdims=True) / m", ["db = np.sum(dZ, axis=1, keepdims=True)"])])
def drop_m(node, names):
    """The 1/m factor is dropped."""
    if over_m(node):
        return copy.deepcopy(node.right if isinstance(node.op, ast.Mult) else node.left)


@register("scale-divide-twice", family="scale", nodes=(ast.BinOp,),
          misconception="You divided by m twice: the 1/m of the mean cost belongs in dW and db once.",
          examples=[("dW1 = 1./m * np.dot(dZ1, X.T)", ["dW1 = 1.0 / m * np.dot(dZ1, X.T) / m"]),
                    ("db = np.sum(dZ) / m", ["db = np.sum(dZ) / m / m"])])
def divide_twice(node, names):
    """A gradient is divided by m a second time."""
    if over_m(node):
        return expr("VALUE / m", VALUE=node)


# --- sign -------------------------------------------------------------------------------------


@register("sign-swap-difference", family="sign", nodes=(ast.BinOp,),
          misconception="The operands of a difference are swapped (Y - A3 instead of A3 - Y): every gradient changes sign.",
          examples=[("dZ3 = A3 - Y", ["dZ3 = Y - A3"]), ("x = 1 - s", [])])
def swap_difference(node, names):
    """a - b becomes b - a."""
    if isinstance(node.op, ast.Sub) and arraylike(node.left) and arraylike(node.right):
        return ast.BinOp(copy.deepcopy(node.right), ast.Sub(), copy.deepcopy(node.left))


@register("sign-negate-gradient", family="sign", nodes=(ast.Assign,),
          misconception="This gradient has the wrong sign: the derivative of the cost points the other way.",
          examples=[("dW3 = 1./m * np.dot(dZ3, A2.T)", ["dW3 = -(1.0 / m * np.dot(dZ3, A2.T))"])])
def negate_gradient(node, names):
    """A gradient is negated."""
    if gradient_assignment(node):
        return with_value(node, ast.UnaryOp(ast.USub(), copy.deepcopy(node.value)))


# --- arithmetic -------------------------------------------------------------------------------


@register("arith-add-sub", family="arithmetic", nodes=(ast.BinOp,),
          misconception="A + and a - are exchanged in this formula.",
          examples=[("dZ3 = A3 - Y", ["dZ3 = A3 + Y"]), ("Z = W @ A + b", ["Z = W @ A - b"]),
                    ("key = 'dW' + str(l)", [])])
def add_sub(node, names):
    """+ becomes - and - becomes +."""
    swapped = {ast.Add: ast.Sub, ast.Sub: ast.Add}.get(type(node.op))
    if swapped and not (is_text(node.left) or is_text(node.right)):
        return ast.BinOp(copy.deepcopy(node.left), swapped(), copy.deepcopy(node.right))


@register("arith-mul-div", family="arithmetic", nodes=(ast.BinOp,),
          misconception="A * and a / are exchanged in this formula.",
          examples=[("db3 = 1./m * s", ["db3 = 1.0 / m / s", "db3 = 1.0 * m * s"])])
def mul_div(node, names):
    """* becomes / and / becomes *."""
    swapped = {ast.Mult: ast.Div, ast.Div: ast.Mult}.get(type(node.op))
    if swapped:
        return ast.BinOp(copy.deepcopy(node.left), swapped(), copy.deepcopy(node.right))


# --- activation mask --------------------------------------------------------------------------


@register("mask-other-layer", family="mask", nodes=(ast.Compare,),
          misconception="The ReLU mask comes from another layer: dZ[l] needs the mask of layer l's own activation.",
          examples=[("A1 = 0\nA2 = 0\ndZ2 = np.multiply(dA2, np.int64(A2 > 0))",
                     ["A1 = 0\nA2 = 0\ndZ2 = np.multiply(dA2, np.int64(A1 > 0))"]),
                    ("A1 = 0\nA2 = 0\ndZ1 = dA1 * (A1 > 0)", ["A1 = 0\nA2 = 0\ndZ1 = dA1 * (A2 > 0)"])])
def mask_other_layer(node, names):
    """A ReLU mask uses the previous (or next) layer's activation."""
    if zero_compare(node) and isinstance(node.left, ast.Name):
        other = neighbour(node.left.id, names)
        if other:
            return ast.Compare(ast.Name(other, ast.Load()), copy.deepcopy(node.ops), copy.deepcopy(node.comparators))


@register("mask-greater-equal", family="mask", nodes=(ast.Compare,),
          misconception="The ReLU mask uses >= 0 (or < 0): after a ReLU every activation is >= 0, so the mask is all ones.",
          examples=[("mask = np.int64(A2 > 0)", ["mask = np.int64(A2 >= 0)"]),
                    ("dZ[Z <= 0] = 0", ["dZ[Z < 0] = 0"])])
def greater_equal(node, names):
    """> 0 becomes >= 0 (and <= 0 becomes < 0)."""
    if zero_compare(node):
        swapped = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.LtE: ast.Lt, ast.Lt: ast.LtE}.get(type(node.ops[0]))
        if swapped:
            return ast.Compare(copy.deepcopy(node.left), [swapped()], copy.deepcopy(node.comparators))


@register("mask-drop", family="mask", nodes=(ast.Call, ast.BinOp),
          misconception="The ReLU derivative is missing: dZ = dA * g'(Z), and g'(Z) is 1 where Z > 0 and 0 elsewhere.",
          examples=[("dZ2 = np.multiply(dA2, np.int64(A2 > 0))", ["dZ2 = dA2"]),
                    ("dZ1 = dA1 * (Z1 > 0)", ["dZ1 = dA1"])])
def drop_mask(node, names):
    """The ReLU mask is dropped: dZ = dA."""
    if isinstance(node, ast.Call) and is_call_to(node, "multiply") and len(node.args) == 2:
        operands = node.args
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        operands = [node.left, node.right]
    else:
        return None
    if contains_compare(operands[1]) and not contains_compare(operands[0]):
        return copy.deepcopy(operands[0])
    if contains_compare(operands[0]) and not contains_compare(operands[1]):
        return copy.deepcopy(operands[1])


@register("mask-sigmoid-derivative", family="mask", nodes=(ast.Call,),
          misconception="The sigmoid's derivative a(1 - a) is used for a ReLU layer: a ReLU's derivative is 1 where Z > 0, else 0.",
          examples=[("dZ2 = np.multiply(dA2, np.int64(A2 > 0))", ["dZ2 = np.multiply(dA2, A2 * (1 - A2))"]),
                    ("y = f(a, b)", [])])
def sigmoid_derivative(node, names):
    """A ReLU mask becomes the sigmoid's derivative a * (1 - a)."""
    if len(node.args) == 1 and not node.keywords and zero_compare(node.args[0]) \
            and isinstance(node.args[0].left, ast.Name):
        return expr("A * (1 - A)", A=node.args[0].left)


@register("mask-pre-activation", family="mask", nodes=(ast.Compare,),
          misconception="The ReLU mask is taken from Z instead of A: for a ReLU, A > 0 exactly where Z > 0, so this is fine.",
          examples=[("Z2 = 0\nmask = np.int64(A2 > 0)", ["Z2 = 0\nmask = np.int64(Z2 > 0)"]),
                    ("mask = np.int64(A2 > 0)", [])])
def pre_activation(node, names):
    """A mask on A[l] is taken on Z[l] instead (an equivalent rewrite)."""
    if zero_compare(node) and isinstance(node.left, ast.Name) and node.left.id.startswith("A"):
        other = "Z" + node.left.id[1:]
        if other in names:
            return ast.Compare(ast.Name(other, ast.Load()), copy.deepcopy(node.ops), copy.deepcopy(node.comparators))


# --- same-role variables swapped --------------------------------------------------------------


@register("swap-layer-input", family="swap", nodes=(ast.Attribute,),
          misconception="dW[l] uses another layer's input: dW[l] = dZ[l] A[l-1].T, with A[0] = X.",
          examples=[("X = A1 = A2 = 0\ndW2 = np.dot(dZ2, A1.T)", ["X = A1 = A2 = 0\ndW2 = np.dot(dZ2, X.T)"]),
                    ("X = A1 = 0\ndW1 = np.dot(dZ1, X.T)", ["X = A1 = 0\ndW1 = np.dot(dZ1, A1.T)"])])
def layer_input(node, names):
    """A[l-1].T becomes the previous layer's input (X for A1), or X.T becomes A1.T."""
    if node.attr != "T" or not isinstance(node.value, ast.Name):
        return None
    name = node.value.id
    if name == "X":
        other = "A1" if "A1" in names else None
    elif name == "A1":
        other = "X" if "X" in names else None
    elif name.startswith("A"):
        other = neighbour(name, names)
    else:
        other = None
    if other:
        return ast.Attribute(ast.Name(other, ast.Load()), "T", ast.Load())


@register("swap-weight-layer", family="swap", nodes=(ast.Name,),
          misconception="Another layer's weights are used: dA[l-1] = W[l].T dZ[l] takes the weights of layer l.",
          examples=[("W2 = W3 = 0\ndA2 = np.dot(W3.T, dZ3)", ["W2 = W3 = 0\ndA2 = np.dot(W2.T, dZ3)"])])
def weight_layer(node, names):
    """W[l] becomes W[l-1] (or W[l+1] for the first layer)."""
    if isinstance(node.ctx, ast.Load) and node.id.startswith("W"):
        other = neighbour(node.id, names)
        if other:
            return ast.Name(other, ast.Load())


@register("swap-skip-local-derivative", family="swap", nodes=(ast.Name,),
          misconception="dA is used where dZ is needed: this skips the activation's local derivative (the ReLU mask).",
          examples=[("dA2 = dZ2 = 0\ndW2 = np.dot(dZ2, A1.T)", ["dA2 = dZ2 = 0\ndW2 = np.dot(dA2, A1.T)"]),
                    ("dZ3 = 0\ndW3 = np.dot(dZ3, A2.T)", [])])
def skip_local_derivative(node, names):
    """dZ[l] becomes dA[l] (which the code also computes), skipping the ReLU's derivative."""
    if isinstance(node.ctx, ast.Load) and node.id.startswith("dZ"):
        other = "dA" + node.id[2:]
        if other in names:
            return ast.Name(other, ast.Load())


# --- routing ----------------------------------------------------------------------------------


def _swapped_entries(node: ast.Dict, pairs: list[tuple[str, str]]) -> list[ast.Dict]:
    keys = [key.value if isinstance(key, ast.Constant) else None for key in node.keys]
    found = []
    for first, second in pairs:
        if first in keys and second in keys:
            values = copy.deepcopy(node.values)
            i, j = keys.index(first), keys.index(second)
            values[i], values[j] = values[j], values[i]
            found.append(ast.Dict(copy.deepcopy(node.keys), values))
    return found


@register("route-swap-layers", family="routing", nodes=(ast.Dict,),
          misconception="Two layers' weight gradients are stored under each other's keys (dW1 and dW2).",
          examples=[("g = {'dW1': a, 'dW2': b, 'dW3': c}",
                     ["g = {'dW1': b, 'dW2': a, 'dW3': c}", "g = {'dW1': a, 'dW2': c, 'dW3': b}"])])
def swap_layers(node, names):
    """The values under dW[l] and dW[l+1] are exchanged."""
    return _swapped_entries(node, [(f"dW{k}", f"dW{k + 1}") for k in range(1, 10)])


@register("route-swap-weight-bias", family="routing", nodes=(ast.Dict,),
          misconception="dW and db of one layer are stored under each other's keys.",
          examples=[("g = {'dW1': a, 'db1': b}", ["g = {'dW1': b, 'db1': a}"])])
def swap_weight_bias(node, names):
    """The values under dW[l] and db[l] are exchanged."""
    return _swapped_entries(node, [(f"dW{k}", f"db{k}") for k in range(1, 10)])


@register("route-key-prefix", family="routing", nodes=(ast.Constant,),
          misconception="A gradient is stored under the wrong key: 'dW' and 'db' are exchanged.",
          examples=[("grads['dW' + str(l)] = dW", ["grads['db' + str(l)] = dW"])])
def key_prefix(node, names):
    """The key prefix 'dW' becomes 'db' and 'db' becomes 'dW'."""
    swapped = {"dW": "db", "db": "dW"}.get(node.value) if isinstance(node.value, str) else None
    if swapped:
        return ast.Constant(swapped)


# --- transpose and matrix products -------------------------------------------------------------


@register("transpose-drop", family="transpose", nodes=(ast.Attribute,),
          misconception="A transpose is missing: dW[l] = dZ[l] A[l-1].T and dA[l-1] = W[l].T dZ[l].",
          examples=[("dA2 = np.dot(W3.T, dZ3)", ["dA2 = np.dot(W3, dZ3)"])])
def drop_transpose(node, names):
    """x.T becomes x."""
    if node.attr == "T":
        return copy.deepcopy(node.value)


@register("transpose-add", family="transpose", nodes=(ast.Call, ast.BinOp),
          misconception="An operand of a matrix product is transposed that should not be.",
          examples=[("dW = np.dot(dZ, A.T)", ["dW = np.dot(dZ.T, A.T)"]),
                    ("dA = W.T @ dZ", ["dA = W.T @ dZ.T"])])
def add_transpose(node, names):
    """A plain operand of np.dot (or @) gets a .T."""
    if isinstance(node, ast.Call) and is_call_to(node, "dot", "matmul") and len(node.args) == 2:
        found = []
        for index, argument in enumerate(node.args):
            if isinstance(argument, ast.Name):
                changed = copy.deepcopy(node)
                changed.args[index] = ast.Attribute(copy.deepcopy(argument), "T", ast.Load())
                found.append(changed)
        return found
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        found = []
        for side in ("left", "right"):
            if isinstance(getattr(node, side), ast.Name):
                changed = copy.deepcopy(node)
                setattr(changed, side, ast.Attribute(copy.deepcopy(getattr(node, side)), "T", ast.Load()))
                found.append(changed)
        return found


@register("matmul-swap-operands", family="matmul", nodes=(ast.Call, ast.BinOp),
          misconception="The operands of a matrix product are in the wrong order: a matrix product does not commute.",
          examples=[("dW3 = np.dot(dZ3, A2.T)", ["dW3 = np.dot(A2.T, dZ3)"]), ("y = a @ b", ["y = b @ a"])])
def swap_product(node, names):
    """np.dot(a, b) becomes np.dot(b, a); a @ b becomes b @ a."""
    if isinstance(node, ast.Call) and is_call_to(node, "dot", "matmul") and len(node.args) == 2:
        changed = copy.deepcopy(node)
        changed.args.reverse()
        return changed
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return ast.BinOp(copy.deepcopy(node.right), ast.MatMult(), copy.deepcopy(node.left))


@register("matmul-dot-multiply", family="matmul", nodes=(ast.Call,),
          misconception="np.dot (matrix product) and np.multiply (entry by entry) are exchanged.",
          examples=[("dA2 = np.dot(W3.T, dZ3)", ["dA2 = np.multiply(W3.T, dZ3)"]),
                    ("dZ = np.multiply(dA, g)", ["dZ = np.dot(dA, g)"])])
def dot_multiply(node, names):
    """np.dot becomes np.multiply and np.multiply becomes np.dot."""
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("dot", "multiply"):
        changed = copy.deepcopy(node)
        changed.func.attr = "multiply" if node.func.attr == "dot" else "dot"
        return changed


@register("matmul-at-star", family="matmul", nodes=(ast.BinOp,),
          misconception="@ (matrix product) and * (entry by entry) are exchanged.",
          examples=[("dW = dZ @ A.T", ["dW = dZ * A.T"]), ("dZ = dA * g", ["dZ = dA @ g"]), ("y = 2 * x", [])])
def at_star(node, names):
    """@ becomes * and * between two arrays becomes @."""
    if isinstance(node.op, ast.MatMult):
        return ast.BinOp(copy.deepcopy(node.left), ast.Mult(), copy.deepcopy(node.right))
    if isinstance(node.op, ast.Mult) and arraylike(node.left) and arraylike(node.right) \
            and not contains_compare(node):
        return ast.BinOp(copy.deepcopy(node.left), ast.MatMult(), copy.deepcopy(node.right))


# --- reductions -------------------------------------------------------------------------------


def _with_keywords(node: ast.Call, keywords: list[ast.keyword]) -> ast.Call:
    changed = copy.deepcopy(node)
    changed.keywords = keywords
    return changed


@register("reduce-axis-zero", family="reduction", nodes=(ast.Call,),
          misconception="db sums over the wrong axis: the examples are the columns, so sum with axis=1.",
          examples=[("db = np.sum(dZ, axis=1, keepdims=True)", ["db = np.sum(dZ, axis=0, keepdims=True)"])])
def axis_zero(node, names):
    """axis=1 becomes axis=0."""
    keywords = copy.deepcopy(node.keywords)
    for keyword in keywords:
        if keyword.arg == "axis" and isinstance(keyword.value, ast.Constant) and keyword.value.value == 1:
            keyword.value = ast.Constant(0)
            return _with_keywords(node, keywords)


@register("reduce-axis-none", family="reduction", nodes=(ast.Call,),
          misconception="db sums over every entry instead of over the examples only (axis=1).",
          examples=[("db = np.sum(dZ, axis=1, keepdims=True)", ["db = np.sum(dZ, keepdims=True)"])])
def axis_none(node, names):
    """The axis argument is dropped, so the sum runs over every entry."""
    if any(keyword.arg == "axis" for keyword in node.keywords):
        return _with_keywords(node, [copy.deepcopy(k) for k in node.keywords if k.arg != "axis"])


@register("reduce-drop-keepdims", family="reduction", nodes=(ast.Call,),
          misconception="keepdims=True is missing: db comes out with shape (n,) instead of (n, 1).",
          examples=[("db = np.sum(dZ, axis=1, keepdims=True)", ["db = np.sum(dZ, axis=1)"])])
def drop_keepdims(node, names):
    """keepdims=True is dropped (same values, wrong shape)."""
    if any(keyword.arg == "keepdims" for keyword in node.keywords):
        return _with_keywords(node, [copy.deepcopy(k) for k in node.keywords if k.arg != "keepdims"])


@register("reduce-sum-mean", family="reduction", nodes=(ast.Call,),
          misconception="np.mean already divides by m, and the 1/m factor divides again.",
          examples=[("db = 1./m * np.sum(dZ, axis=1)", ["db = 1.0 / m * np.mean(dZ, axis=1)"])])
def sum_mean(node, names):
    """np.sum becomes np.mean."""
    if isinstance(node.func, ast.Attribute) and node.func.attr == "sum":
        changed = copy.deepcopy(node)
        changed.func.attr = "mean"
        return changed


# --- zeros and NaN ----------------------------------------------------------------------------


@register("zero-bias-gradient", family="zero", nodes=(ast.Assign,),
          misconception="The bias gradient is all zeros: b shifts every example's Z, so db = (1/m) sum of dZ over the examples.",
          examples=[("db1 = 1./m * np.sum(dZ1, axis=1, keepdims=True)",
                     ["db1 = np.zeros_like(1.0 / m * np.sum(dZ1, axis=1, keepdims=True))"]),
                    ("dW1 = x", [])])
def zero_bias(node, names):
    """A bias gradient is replaced by zeros of the same shape."""
    if gradient_assignment(node, re.compile(r"^db")) and isinstance(node.targets[0], ast.Name):
        return with_value(node, expr("np.zeros_like(VALUE)", VALUE=node.value))


@register(CANARY, family="zero", nodes=(ast.Return,),
          misconception="Every gradient is zero: the backward pass returns before computing anything.",
          examples=[("def f():\n    return gradients",
                     ["def f():\n    return {key: np.zeros_like(value) for key, value in gradients.items()} "
                      "if isinstance(gradients, dict) else np.zeros_like(gradients)"])])
def zero_all(node, names):
    """Every returned gradient becomes zeros (the canary every checker must catch)."""
    if node.value is not None:
        return ast.Return(expr("{key: np.zeros_like(value) for key, value in RETURNED.items()} "
                               "if isinstance(RETURNED, dict) else np.zeros_like(RETURNED)", RETURNED=node.value))


@register("nan-inject", family="nan", nodes=(ast.Assign,),
          misconception="This gradient is NaN: a 0/0 or log(0) slipped into it.",
          examples=[("dW1 = 1./m * np.dot(dZ1, X.T)", ["dW1 = 1.0 / m * np.dot(dZ1, X.T) * np.nan"]),
                    ("dZ1 = x", [])])
def inject_nan(node, names):
    """A weight or bias gradient is multiplied by NaN."""
    if gradient_assignment(node, PARAMETER_GRADIENT):
        return with_value(node, expr("VALUE * np.nan", VALUE=node.value))


# --- loops over layers (l_layer) ----------------------------------------------------------------


def _range_arguments(node: ast.AST) -> list[ast.expr] | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" \
            and 1 <= len(node.args) <= 3 and not node.keywords:
        return node.args
    return None


def _negative_step(arguments: list[ast.expr]) -> bool:
    if len(arguments) < 3:
        return False
    step = arguments[2]
    return isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub) or (
        isinstance(step, ast.Constant) and isinstance(step.value, (int, float)) and step.value < 0)


@register("loop-range-stop", family="loop", nodes=(ast.Call,),
          misconception="The loop over layers stops one layer early: check range's end, which is excluded.",
          examples=[("for l in range(L - 1):\n    pass", ["for l in range(L - 1 - 1):\n    pass"]),
                    ("for l in range(1, L):\n    pass", ["for l in range(1, L - 1):\n    pass"]),
                    ("for l in range(L - 2, -1, -1):\n    pass", ["for l in range(L - 2, -1 + 1, -1):\n    pass"])])
def range_stop(node, names):
    """range's end moves one step towards the start (one iteration fewer)."""
    arguments = _range_arguments(node)
    if arguments is None:
        return None
    changed = copy.deepcopy(node)
    position = 0 if len(arguments) == 1 else 1
    template = "STOP + 1" if _negative_step(arguments) else "STOP - 1"
    changed.args[position] = expr(template, STOP=arguments[position])
    return changed


@register("loop-range-start", family="loop", nodes=(ast.Call,),
          misconception="The loop over layers starts one layer late and skips a layer: check range's start.",
          examples=[("for l in range(L - 1):\n    pass", ["for l in range(1, L - 1):\n    pass"]),
                    ("for l in range(L - 2, -1, -1):\n    pass", ["for l in range(L - 2 - 1, -1, -1):\n    pass"])])
def range_start(node, names):
    """range's start moves one step towards the end (the first layer is skipped)."""
    arguments = _range_arguments(node)
    if arguments is None:
        return None
    changed = copy.deepcopy(node)
    if len(arguments) == 1:
        changed.args = [ast.Constant(1), copy.deepcopy(arguments[0])]
    else:
        template = "START - 1" if _negative_step(arguments) else "START + 1"
        changed.args[0] = expr(template, START=arguments[0])
    return changed


@register("loop-reversed-drop", family="loop", nodes=(ast.For,),
          misconception="Backpropagation runs from the last layer to the first: the loop must go in reverse.",
          examples=[("for l in reversed(range(L - 1)):\n    pass", ["for l in range(L - 1):\n    pass"])])
def reversed_drop(node, names):
    """for l in reversed(x) becomes for l in x."""
    if isinstance(node.iter, ast.Call) and isinstance(node.iter.func, ast.Name) and node.iter.func.id == "reversed" \
            and len(node.iter.args) == 1:
        changed = copy.deepcopy(node)
        changed.iter = copy.deepcopy(node.iter.args[0])
        return changed


@register("loop-reversed-add", family="loop", nodes=(ast.For,),
          misconception="The loop over layers runs in the wrong direction.",
          examples=[("for l in range(1, L):\n    pass", ["for l in reversed(range(1, L)):\n    pass"]),
                    ("for l in reversed(x):\n    pass", [])])
def reversed_add(node, names):
    """for l in x becomes for l in reversed(x)."""
    if _range_arguments(node.iter) is not None:
        changed = copy.deepcopy(node)
        changed.iter = expr("reversed(ITER)", ITER=node.iter)
        return changed


@register("loop-cache-index", family="loop", nodes=(ast.Subscript,),
          misconception="The wrong layer's cache is used: caches is 0-indexed, so layer l's cache is caches[l - 1].",
          examples=[("c = caches[l]", ["c = caches[l - 1]"]), ("c = caches[l - 1]", ["c = caches[l]"]),
                    ("c = caches[L - 1]", ["c = caches[L]"]), ("c = cache[0]", [])])
def cache_index(node, names):
    """caches[l] becomes caches[l - 1], and caches[l - 1] (or + 1) becomes caches[l]."""
    if not (isinstance(node.value, ast.Name) and "cache" in node.value.id):
        return None
    index = node.slice
    if isinstance(index, ast.Name):
        changed_index = expr("INDEX - 1", INDEX=index)
    elif isinstance(index, ast.BinOp) and isinstance(index.op, (ast.Add, ast.Sub)) \
            and isinstance(index.left, ast.Name) and isinstance(index.right, ast.Constant) and index.right.value == 1:
        changed_index = copy.deepcopy(index.left)
    else:
        return None
    return ast.Subscript(copy.deepcopy(node.value), changed_index, copy.deepcopy(node.ctx))


@register("loop-wrong-activation", family="loop", nodes=(ast.Constant,),
          misconception="The wrong activation's derivative is used for this layer: hidden layers are ReLU, the output is sigmoid.",
          examples=[("dA = backward(dAL, cache, 'sigmoid')", ["dA = backward(dAL, cache, 'relu')"]),
                    ("dA = backward(dA, cache, activation='relu')", ["dA = backward(dA, cache, activation='sigmoid')"])])
def wrong_activation(node, names):
    """The activation name 'relu' becomes 'sigmoid' and 'sigmoid' becomes 'relu'."""
    swapped = {"relu": "sigmoid", "sigmoid": "relu"}.get(node.value) if isinstance(node.value, str) else None
    if swapped:
        return ast.Constant(swapped)
