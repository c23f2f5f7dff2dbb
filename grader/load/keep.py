"""Choose what of a submission runs: definitions, imports and constants; the rest blanked in place."""
from __future__ import annotations

import ast
from typing import AbstractSet

from grader.load.parse import parse, python_lines

def _is_constant(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


# What a kept constant's expression may call or read besides literals, arithmetic and names kept above it:
# conversions and elementary functions with no side effects (`EPS = np.float64(1e-7)`, `h = math.sqrt(2)`).
CONSTANT_CALLS = frozenset({
    "float", "int", "abs", "round", "pow", "min", "max", "complex",
    "np.float64", "np.float32", "np.float16", "np.int64", "np.int32", "np.sqrt", "np.exp", "np.log", "np.log10",
    "np.power", "np.abs", "np.finfo", "math.sqrt", "math.exp", "math.log", "math.log10", "math.pow", "math.ldexp",
})
CONSTANT_ATTRIBUTES = frozenset({"np.pi", "np.e", "np.inf", "np.nan", "np.newaxis", "math.pi", "math.e", "math.inf",
                                 "math.tau", "eps"})  # eps: np.finfo(float).eps
_MODULE_ALIASES = {"numpy": "np", "np": "np", "math": "math"}
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.UAdd, ast.USub)
# `10 ** 10 ** 8` would keep loading busy until its timeout: exponents of kept constants stay small.
_LARGEST_EXPONENT = 400


def _dotted(node: ast.expr) -> str | None:
    """`np.float64` for the attribute chain np.float64 (numpy spelled np), None for anything else."""
    if isinstance(node, ast.Name):
        return _MODULE_ALIASES.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _is_computed_constant(node: ast.expr, kept: AbstractSet[str]) -> bool:
    """Whether an expression only computes a number from literals, names kept above it and CONSTANT_CALLS."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, float, complex, str, bytes, bool, type(None)))
    if isinstance(node, ast.Name):
        return node.id in kept
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, _ARITHMETIC) and _is_computed_constant(node.operand, kept)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow) and not (isinstance(node.right, (ast.Constant, ast.UnaryOp, ast.Name))
                                                 and _small_exponent(node.right)):
            return False
        return (isinstance(node.op, _ARITHMETIC) and _is_computed_constant(node.left, kept)
                and _is_computed_constant(node.right, kept))
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_is_computed_constant(item, kept) for item in node.elts)
    if isinstance(node, ast.Attribute):
        dotted = _dotted(node)
        if isinstance(node.value, ast.Call):  # np.finfo(float).eps
            return node.attr in CONSTANT_ATTRIBUTES and _is_computed_constant(node.value, kept)
        return dotted in CONSTANT_ATTRIBUTES and _root(node) in kept
    if isinstance(node, ast.Call):
        dotted = _dotted(node.func)
        arguments = list(node.args) + [keyword.value for keyword in node.keywords]
        return (dotted in CONSTANT_CALLS and (isinstance(node.func, ast.Name) or _root(node.func) in kept)
                and all(_is_computed_constant(argument, kept | {"float", "int"}) for argument in arguments))
    return False


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _small_exponent(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return False  # a name's value is not known here
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return isinstance(value, (int, float)) and abs(value) <= _LARGEST_EXPONENT


def keeps(statement: ast.stmt, *, kept: AbstractSet[str] = frozenset()) -> bool:
    """Whether a top-level statement is kept by default: imports, definitions (a lambda too) and constants,
    computed or not (`EPS = 1e-7`, `EPS = 10 ** -7`, `SCALE = np.float64(1.0)`); kept holds the names the
    statements kept above it bind, which a computed constant may use."""
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(statement, ast.Assign):
        targets = all(isinstance(target, ast.Name) for target in statement.targets)
        return targets and _is_kept_value(statement.value, kept)
    if isinstance(statement, ast.AnnAssign):
        return isinstance(statement.target, ast.Name) and (statement.value is None or _is_kept_value(statement.value, kept))
    return False


def _is_kept_value(value: ast.expr, kept: AbstractSet[str]) -> bool:
    if isinstance(value, ast.Lambda):
        return _kept_defaults(value.args, kept)  # a lambda only defines, as a def does; its defaults run now
    return _is_constant(value) or _is_computed_constant(value, kept)


def _kept_defaults(arguments: ast.arguments, kept: AbstractSet[str]) -> bool:
    defaults = list(arguments.defaults) + [default for default in arguments.kw_defaults if default is not None]
    return all(_is_constant(default) or _is_computed_constant(default, kept) for default in defaults)


def kept_statements(statements: list[ast.stmt]) -> list[bool]:
    """keeps() for each top-level statement in order, each judged with the names the kept ones above it bind."""
    kept: set[str] = set()
    verdicts = []
    for statement in statements:
        verdict = keeps(statement, kept=kept)  # read only: no copy per statement (a file of 30,000 defs)
        verdicts.append(verdict)
        if verdict:
            kept.update(name for name, _ in names_set([statement]))
    return verdicts


def kept_program(text: str, tree: ast.Module) -> tuple[str, ast.Module | None, list[ast.stmt]]:
    """definitions_only, and the tree of its source when it blanked lines: the kept statements, where they were.

    None when a dropped statement shared a line with a kept one (syntax_tree then parses the source).
    Also the statements it dropped.
    """
    source, kept, dropped = _definitions(text, tree)
    if kept is None:
        return source, None, dropped
    return source, ast.Module(body=kept, type_ignores=tree.type_ignores), dropped


def definitions_only(text: str, tree: ast.Module) -> tuple[str, int]:
    """The source with every top-level statement that is not kept blanked out, and how many were.

    Blanking instead of unparsing keeps every line where the student wrote it, so messages that
    name a line point into the student's own file.
    """
    source, _, dropped = _definitions(text, tree)
    return source, len(dropped)


def _definitions(text: str, tree: ast.Module) -> tuple[str, list[ast.stmt] | None, list[ast.stmt]]:
    """definitions_only, with the statements kept in place when only whole lines were blanked (None when a
    dropped statement shared a line with a kept one and became `pass`), and the dropped statements."""
    lines = python_lines(text)
    spans = [(statement.lineno, statement.end_lineno or statement.lineno, kept)
             for statement, kept in zip(tree.body, kept_statements(tree.body))]
    kept_lines = {line for start, end, kept in spans if kept for line in range(start, end + 1)}
    sharing = []
    for statement, (start, end, kept) in zip(tree.body, spans):
        if kept:
            continue
        if any(line in kept_lines for line in range(start, end + 1)):
            sharing.append(statement)  # `x = 1; run()`: the line stays, the call goes
            continue
        for line in range(start, end + 1):
            lines[line - 1] = ""
    dropped = [statement for statement, (_, _, kept) in zip(tree.body, spans) if not kept]
    body = [statement for statement, (_, _, kept) in zip(tree.body, spans) if kept]
    if not sharing:
        return "\n".join(lines) + "\n", body, dropped
    for statement in reversed(sharing):  # right to left: the columns of the ones still to do stay true
        _replace_with_pass(lines, statement)
    source = "\n".join(lines) + "\n"
    if parse(source)[0] is None:  # a safety net: the cut should always leave code that parses
        source = ast.unparse(ast.Module(body=body, type_ignores=[]))
    return source, None, dropped


_OWN_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def names_set(statements: list[ast.stmt]) -> tuple[tuple[str, int], ...]:
    """Each name the statements bind at module level, with the line of the first statement binding it.

    Names bound inside a function, class or comprehension they define are not the module's.
    """
    found: dict[str, int] = {}
    for statement in statements:
        stack: list[ast.AST] = [statement]
        while stack:
            node = stack.pop()
            names: list[str] = []
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.setdefault(node.name, statement.lineno)
                continue
            if isinstance(node, _OWN_SCOPES):
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names = [node.id]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.asname or alias.name.split(".")[0] for alias in node.names if alias.name != "*"]
            elif isinstance(node, ast.ExceptHandler) and node.name:
                names = [node.name]
            for name in names:
                found.setdefault(name, statement.lineno)
            stack.extend(ast.iter_child_nodes(node))
    return tuple(found.items())


def _replace_with_pass(lines: list[str], statement: ast.stmt) -> None:
    """Put `pass` where a top-level statement was, leaving what shares its first and last lines in place."""
    start, end = statement.lineno, statement.end_lineno or statement.lineno
    head = lines[start - 1].encode()[:statement.col_offset].decode()  # AST columns count UTF-8 bytes
    tail = lines[end - 1].encode()[statement.end_col_offset:].decode()
    if start == end:
        lines[start - 1] = head + "pass" + tail
        return
    lines[start - 1] = head + "pass"
    for line in range(start, end - 1):
        lines[line] = ""
    lines[end - 1] = "pass" + tail if tail.strip() else ""
