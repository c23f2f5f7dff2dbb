"""Turn a submission file (.py or .ipynb) into the source the sandbox runs: parse, keep definitions, warn about the rest."""
from __future__ import annotations

import ast
import codecs
import io
import json
import re
import tokenize
import warnings as _warnings
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import AbstractSet

SUFFIXES = (".py", ".ipynb")
# Suffixes a browser download or an upload form adds after the real one: `hw.ipynb.txt`, `hw.py.json`.
ADDED_SUFFIXES = (".txt", ".json")
# Cell magics whose body is Python: the body is kept, the magic line is not.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "pypy", "python", "python3"})
_LINE_MAGIC = re.compile(r"^(\s*)(%|!)")
_ASSIGNED_MAGIC = re.compile(r"^(\s*)([A-Za-z_][\w.,\s\[\]]*?)\s*=\s*(%|!)")
_HELP = re.compile(r"^(\s*)(\?+[\w.]*|[\w.]+\?\??)\s*$")
_LINE_REFERENCE = re.compile(r"\(line (\d+)\)")
_NAME_ERROR = re.compile(r"NameError: name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")
_CELL_MARKER = re.compile(r"^# (In\[[ \d]*\]:|%%)")


class LoadError(Exception):
    """A submission that cannot be graded at all; the message is one line for the student."""


@dataclass(frozen=True)
class Skipped:
    """A part of a submission that does not parse and was left out: where it is ("code cell 4", "the
    statement at line 47"), its first line, what it would have defined, and why (one line, naming the
    student's lines)."""

    where: str
    opening: str
    names: tuple[str, ...]
    problem: str
    # The part's text, and the student's number of its first line (the file's, or the cell's own with the
    # cell's number), for a page to show the code that was not run.
    text: str = ""
    line: int = 1
    cell: int | None = None

    def warning(self) -> str:
        return f"{self.where} ({self.opening}) does not parse and was skipped: {self.problem}"

    def reason(self, name: str) -> str:
        """Why `name` is not in the program, for its row."""
        return f"{name} was not graded: {self.where}, where it is defined, does not parse ({self.problem})"


@dataclass(frozen=True)
class Program:
    """The code gradgrade will run for a submission, and what loading it had to say.

    line_map holds, for each line of source, the (cell number, line in that cell) it came from;
    empty for a .py file, whose lines are the student's own. unrun holds (name, line) for each name that
    only top-level code gradgrade left out sets, and the line of the first such statement. skipped holds
    the cells or statements left out because they do not parse, with what they would have defined.
    """

    source: str
    filename: str
    warnings: tuple[str, ...] = ()
    line_map: tuple[tuple[int, int], ...] = ()
    unrun: tuple[tuple[str, int], ...] = ()
    skipped: tuple[Skipped, ...] = ()
    # What the student calls each cell of line_map, where that is not "code cell N": `In [4]` for a
    # function grader.check took from a running notebook.
    cell_names: tuple[str, ...] = ()

    def skipped_reason(self, name: str) -> str | None:
        """Why name is not defined when a part that does not parse would have defined it (the last such), else None."""
        return next((part.reason(name) for part in reversed(self.skipped) if name in part.names), None)

    def locate(self, line: int) -> str:
        """Where line `line` of source is in the student's file: "line 12" or "code cell 7, line 3".

        Code cells are counted from the top, markdown cells not: a student counts the cells they wrote code in.
        """
        if self.line_map and 1 <= line <= len(self.line_map):
            cell, cell_line = self.line_map[line - 1]
            if 1 <= cell <= len(self.cell_names):
                return f"{self.cell_names[cell - 1]}, line {cell_line}"
            return f"code cell {cell}, line {cell_line}"
        return f"line {line}"

    def relabel(self, message: str) -> str:
        """A sandbox message in the student's terms: every "(line N)" of the program turned into their own
        place, and a NameError for a name only top-level code gradgrade did not run sets explained."""
        if self.line_map:
            message = _LINE_REFERENCE.sub(lambda match: f"({self.locate(int(match.group(1)))})", message)
        missing = _NAME_ERROR.search(message) if self.unrun else None
        line = dict(self.unrun).get(missing.group(1)) if missing else None
        if line is None:
            return message
        name = missing.group(1)
        return (f"{message}; {name} is set only by top-level code at {self.locate(line)}, which gradgrade does not "
                f"run (it runs imports, definitions and constant assignments): set {name} inside the function, "
                "or grade with --run-all")


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


# The syntax trees of the programs loaded last, by source: a later step that reads a program's code
# (diagnose's gradient_lines) takes the tree loading made instead of parsing the program again.
# A process grades one submission at a time, so a few suffice.
_TREES: dict[str, ast.Module] = {}
_TREES_KEPT = 4
# Where Python's tokenizer ends a line. str.splitlines also splits at form feeds, \x85, \u2028 and
# others, which a string literal may hold: splitting there would move every later line and break the literal.
_LINE_BREAK = re.compile("\r\n|\r|\n")


def python_lines(text: str) -> list[str]:
    """text's lines as Python numbers them (str.splitlines, but only at \\n, \\r\\n and \\r)."""
    lines = _LINE_BREAK.split(text)
    return lines[:-1] if lines and not lines[-1] else lines


def _remember(source: str, tree: ast.Module) -> None:
    _TREES.pop(source, None)
    _TREES[source] = tree
    while len(_TREES) > _TREES_KEPT:
        del _TREES[next(iter(_TREES))]


def syntax_tree(source: str) -> ast.Module:
    """A program's syntax tree: the one loading made for it, else source parsed (raising as ast.parse does).

    Never modify it: every caller gets the same tree.
    """
    tree = _TREES.get(source)
    return tree if tree is not None else ast.parse(source)


def _program(source: str, tree: ast.Module | None) -> str:
    """source, with tree (what parsing source gives) remembered for syntax_tree when there is one."""
    if tree is not None:
        _remember(source, tree)
    return source


def _kept(text: str, tree: ast.Module) -> tuple[str, ast.Module | None, list[ast.stmt]]:
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
    if _parse(source)[0] is None:  # a safety net: the cut should always leave code that parses
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


# Byte order marks, longest first: UTF-32's little-endian mark starts with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def text_encoding(data: bytes, *, kind: str = ".py") -> str:
    """The encoding a submission's bytes declare: a byte order mark (UTF-8, UTF-16 as PowerShell's `>` writes,
    UTF-32), else for Python source its PEP 263 coding line (`# -*- coding: latin-1 -*-`), else UTF-8.

    A notebook is JSON, UTF-8 by nbformat's rule: only a byte order mark changes how it is read.
    Raises LoadError for a coding line naming an encoding Python does not know.
    """
    bom = next((encoding for mark, encoding in _BOMS if data.startswith(mark)), None)
    if bom is not None:
        return bom
    if kind != ".py":
        return "utf-8"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "unknown encoding" not in str(error):
            return "utf-8"  # no coding line and bytes that are not UTF-8: decoding says where they are
        raise LoadError(f"its coding line names an {error}") from None
    return encoding


def _position(data: bytes, offset: int) -> str:
    """Line and column (both from 1) of byte `offset`, as an editor shows them."""
    before = data[:offset]
    line = len(_LINE_BREAK.split(before.decode("latin-1")))
    start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
    column = len(before[start:].decode("utf-8", "replace")) + 1  # characters, not bytes
    return f"line {line}, column {column}"


def decode_text(data: bytes, *, filename: str) -> str:
    """The submission's text, decoded as it declares (text_encoding), or a LoadError saying in one line why it
    has none."""
    if not data.strip():
        raise LoadError(f"{filename} is empty")
    kind = source_kind(filename) or ".py"
    try:
        encoding = text_encoding(data, kind=kind)
    except LoadError as error:
        raise LoadError(f"{filename}: {error}") from None
    if b"\x00" in data and not encoding.startswith(("utf-16", "utf-32")):
        raise LoadError(f"{filename} is a binary file, not Python source or a notebook")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        declared = encoding not in ("utf-8", "utf-8-sig")
        what = f"{codecs.lookup(encoding).name} text, as it declares," if declared else "UTF-8 text"
        hint = "" if declared else " (save it as UTF-8, or declare its encoding on its first line: # -*- coding: cp1252 -*-)"
        raise LoadError(f"{filename} is not {what}: byte 0x{data[error.start]:02x} at "
                        f"{_position(data, error.start)} cannot be read{hint}") from None
    except LookupError:
        raise LoadError(f"{filename}: its coding line names an unknown encoding ({encoding})") from None
    if encoding.startswith(("utf-16", "utf-32")) and sum(ord(char) > 127 for char in text) * 2 > len(text):
        # Source and JSON are mostly ASCII whatever their encoding: two bytes that look like a BOM ahead of
        # anything else (an image, an archive) do not make text.
        raise LoadError(f"{filename} is a binary file, not Python source or a notebook")
    if not text.strip():
        raise LoadError(f"{filename} is empty")
    return text.removeprefix("\ufeff")


def _parse(text: str, *, first_line: int = 1) -> tuple[ast.Module | None, str | None]:
    """text's syntax tree, or None and why text does not parse as Python (one line), naming lines as if text
    started at line first_line (the tree's lines are text's own)."""
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")  # SyntaxWarnings (`is` with a literal) are not our business
            return ast.parse(text), None
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None)
        line = line + first_line - 1 if line else line
        kind = type(error).__name__
        return None, f"{kind} at line {line}: {getattr(error, 'msg', error)}" if line else f"{kind}: {error}"
    except (MemoryError, RecursionError):
        return None, "too deeply nested to parse"


def _parse_problem(text: str, *, first_line: int = 1) -> str | None:
    """Why text does not parse as Python (one line), or None when it does."""
    return _parse(text, first_line=first_line)[1]


# A line that starts a top-level statement: code at column 0 that does not continue the statement above
# (a closing bracket, else/elif/except/finally, a def under its decorator).
_CONTINUES = re.compile(r"^([)\]}]|(else|elif|except|finally)\b)")
_DEFINES = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)", re.MULTILINE)
# How many following statements a piece that does not parse alone may be joined with (a triple-quoted
# string holding lines at column 0 is cut into several pieces): bounds the parsing a broken file costs.
_JOIN_AT_MOST = 12


def defined_names(text: str) -> list[str]:
    """The names text's lines at column 0 define or assign (`def f`, `class C`, `EPS = ...`), read without
    parsing: what a statement or cell that does not parse would have defined."""
    return list(dict.fromkeys(match.group(1) or match.group(2) for match in _DEFINES.finditer(text)))


def _statement_starts(lines: list[str]) -> list[int]:
    """The indexes of the lines where a top-level statement may start, by their indentation alone."""
    starts, above = [0], ""
    for index, line in enumerate(lines):
        if index == 0 or not line or line[0] in " \t#\f":
            above = line if line.strip() and not line.lstrip().startswith("#") else above
            continue
        decorated = above.startswith("@") and re.match(r"(async\s+)?(def|class)\b", line)
        if not (_CONTINUES.match(line) or decorated or above.rstrip().endswith("\\")):
            starts.append(index)
        above = line
    return starts


def salvage_statements(text: str) -> tuple[str, list[Skipped]]:
    """A .py that does not parse as a whole, with each top-level statement that does not parse alone blanked
    (every other line stays where the student wrote it), and what was blanked.

    Statements are found by indentation; a piece that does not parse alone is joined with the pieces after
    it (a triple-quoted string spanning lines at column 0) before it is given up.
    """
    lines = python_lines(text)
    starts = _statement_starts(lines) + [len(lines)]
    skipped: list[Skipped] = []
    piece = 0
    while piece < len(starts) - 1:
        first = starts[piece]
        problem = None
        for last in range(piece + 1, min(piece + 1 + _JOIN_AT_MOST, len(starts))):
            problem = _parse_problem("\n".join(lines[first:starts[last]]), first_line=first + 1)
            if problem is None:
                break
        if problem is None:
            piece = last
            continue
        end = starts[piece + 1]
        chunk = "\n".join(lines[first:end])
        skipped.append(Skipped(f"the statement at line {first + 1}", _first_line(chunk), tuple(defined_names(chunk)),
                               _parse_problem(chunk, first_line=first + 1) or "it does not parse", chunk, first + 1))
        lines[first:end] = [""] * (end - first)
        piece += 1
    return "\n".join(lines) + "\n", skipped


def load_python(text: str, *, filename: str, run_all: bool = False) -> Program:
    """A .py submission: the whole file must parse; by default only definitions are kept."""
    try:
        tree = ast.parse(text, filename=filename)
    except (SyntaxError, ValueError) as error:
        cells = script_cells(text)
        if cells is not None:  # a notebook exported as .py: grade it cell by cell, as the notebook
            return load_script_cells(cells, filename=filename, run_all=run_all)
        line = getattr(error, "lineno", None)
        where = f" at line {line}" if line else ""
        whole = f"{filename} does not parse{where}: {getattr(error, 'msg', error)}"
        # Like a notebook's cells, each top-level statement that parses is graded; the others are named.
        text, skipped = salvage_statements(text)
        tree = _parse(text)[0] if skipped else None
        if tree is None or not any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in tree.body):
            raise LoadError(whole) from None
    except (MemoryError, RecursionError):
        raise LoadError(f"{filename} is too deeply nested to parse") from None
    else:
        skipped = []
    warnings = tuple(part.warning() for part in skipped)
    if run_all:
        return Program(_program(text, tree), filename, warnings, skipped=tuple(skipped))
    source, kept, dropped = _kept(text, tree)
    if dropped:
        warnings += (f"{len(dropped)} top-level statement(s) that are not definitions were not run",)
    return Program(_program(source, kept), filename, warnings, unrun=names_set(dropped), skipped=tuple(skipped))


# --- notebooks -------------------------------------------------------------------------------------------

def neutralise(cell: str) -> tuple[str, list[str]]:
    """A cell with IPython's magics, shell escapes and help queries made inert, line for line.

    A cell magic whose body is Python keeps its body; any other cell magic (%%bash, %%writefile...)
    empties the cell. Returns the cell and what was neutralised, for warnings.
    """
    lines = _LINE_BREAK.split(cell)
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    notes = []
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = lines[first].strip()[2:].split()[0] if lines[first].strip()[2:] else ""
        notes.append(f"%%{name}")
        if name not in PYTHON_CELL_MAGICS:
            return "\n" * (len(lines) - 1), notes
        lines[first] = ""
    for index, line in enumerate(lines):
        assigned = _ASSIGNED_MAGIC.match(line)
        if assigned and not line.rstrip().endswith(("%", "!")):
            indent, target, _ = assigned.groups()
            notes.append(line.strip())
            lines[index] = f"{indent}{target} = None"
            continue
        escape = _LINE_MAGIC.match(line) or _HELP.match(line)
        if escape:
            notes.append(line.strip())
            lines[index] = f"{escape.group(1)}pass" if escape.group(1) else ""
    return "\n".join(lines), notes


def _first_line(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= 60 else line[:57] + "..."


def notebook_cells(text: str, *, filename: str) -> tuple[list[str], list[str]]:
    """The sources of a notebook's code cells (nbformat, any v4 minor; v3 is converted), and warnings."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise LoadError(f"{filename} is not a notebook: not JSON ({error.msg} at line {error.lineno})") from None
    except RecursionError:
        raise LoadError(f"{filename} is not a notebook: its JSON is nested too deeply to read") from None
    sources, warnings = _valid_v4_sources(document), []
    if sources is None:
        sources, warnings = _read_with_nbformat(text, filename=filename)
    if not any(source.strip() for source in sources):
        raise LoadError(f"{filename} has no code cells")
    return sources, warnings


def _read_with_nbformat(text: str, *, filename: str) -> tuple[list[str], list[str]]:
    """The code cells' sources as nbformat.reads gives them (converted to v4), and a warning if it found the
    notebook invalid."""
    import nbformat

    captured: dict = {}
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4, capture_validation_error=captured)
        cells = [cell for cell in notebook.cells if cell.get("cell_type") == "code"]
        sources = ["".join(cell.source) if isinstance(cell.source, list) else str(cell.source) for cell in cells]
    except Exception as error:  # nbformat raises many kinds for a document that is not a notebook
        raise LoadError(f"{filename} is JSON but not a Jupyter notebook ({type(error).__name__})") from None
    return sources, ["the notebook does not fully follow the nbformat schema; graded anyway"] if captured else []


def _valid_v4_sources(document: object) -> list[str] | None:
    """The sources of the code cells of a v4 notebook that nbformat's schema accepts as it is, else None.

    nbformat.reads would give the same cells and no validation error: the NotebookNode it builds only joins
    lists of lines and drops transient keys, which keeps a valid notebook valid. Skipping it (and a second
    json.loads) saves a third of reading a notebook; anything else goes the whole way through nbformat.
    """
    import nbformat

    if not isinstance(document, dict):
        return None
    version, minor = document.get("nbformat"), document.get("nbformat_minor", 0)
    if type(version) is not int or version != 4 or type(minor) is not int or not 0 <= minor <= nbformat.v4.nbformat_minor:
        return None  # another version, converted; or one from the future, checked against a relaxed schema
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            nbformat.validate(document)
    except Exception:  # invalid, or not even a notebook: nbformat.reads says which, as before
        return None
    return [cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            for cell in document["cells"] if cell.get("cell_type") == "code"]


def load_notebook(text: str, *, filename: str, run_all: bool = False) -> Program:
    """A notebook: magics neutralised, cells that do not parse skipped with a warning, the rest kept in order."""
    sources, warnings = notebook_cells(text, filename=filename)
    return load_cells(sources, filename=filename, run_all=run_all, warnings=warnings)


def script_cells(text: str) -> list[str] | None:
    """The cells of a notebook exported as .py (`# In[3]:` or `# %%` markers), or None if it has none."""
    parts: list[list[str]] = [[]]
    for line in python_lines(text):  # CR-only (classic Mac) and CRLF files too
        if _CELL_MARKER.match(line):
            parts.append([])
        parts[-1].append(line)
    if not parts[0]:
        parts.pop(0)  # the file starts with a marker: no lines before it, and no phantom line to shift the rest
    return ["\n".join(part) for part in parts] if len(parts) > 1 or _CELL_MARKER.match(text) else None


def _parsed_cell(cell: str) -> tuple[str, list[str], str | None]:
    """A cell as it will run, what neutralise noted in it, and why it still does not parse (None if it does).

    Each text is parsed once: the cell as written, and only when that fails, its neutralised copy.
    """
    return _placed_cell(cell, line=1)[:3]


def _placed_cell(cell: str, *, line: int) -> tuple[str, list[str], str | None, ast.Module | None]:
    """_parsed_cell, with the cell's tree as parsing it alone at line `line` of the program gives (None if it
    does not parse).

    Blank lines ahead of the cell make its tree number lines as the program does, so the program's tree is
    its cells' trees end to end: the program is not parsed a second time. (Blank lines cost the tokenizer
    about 1% of a line of code.)
    """
    padding = "\n" * (line - 1)
    tree = _parse(padding + cell)[0]
    if tree is not None:
        return cell, [], None, tree  # only a cell that does not parse is rewritten: a '%' in a string stays
    fixed, notes = neutralise(cell)
    tree, problem = _parse(padding + fixed)
    if tree is not None:
        return fixed, notes, None, tree
    # The message names lines: those of the cell's own, parsed at line 1.
    return fixed, notes, problem if line == 1 else _parse_problem(fixed), None


def _joined_cells(lines: list[str], magics: list[str], warnings: list[str], *, filename: str, cells: str,
                  run_all: bool, tree: ast.Module | None = None) -> tuple[str, tuple[tuple[str, int], ...]]:
    """The program made of the kept cells' lines, definitions only unless run_all, and the names only the
    statements it left out set (Program.unrun); adds to warnings. tree is the program's, when the caller
    has it; else the program is parsed here.

    cells names them in the error raised when they parse alone but not together. (A `from __future__` import
    starting a later cell parses: the sandbox runs such a program statement by statement.)
    """
    if magics:
        warnings.append(f"IPython magics and shell commands were not run: {', '.join(dict.fromkeys(magics))[:200]}")
    text = "\n".join(lines) + "\n"
    if tree is None:
        tree, problem = _parse(text)  # parsed once: the same tree tells what to keep
    if tree is None:
        raise LoadError(f"{filename}: {cells} do not parse together: {problem}")
    if run_all:
        return _program(text, tree), ()
    text, kept, dropped = _kept(text, tree)
    if dropped:
        warnings.append(f"{len(dropped)} top-level statement(s) that are not definitions were not run")
    return _program(text, kept), names_set(dropped)


def load_script_cells(cells: list[str], *, filename: str, run_all: bool) -> Program:
    """A .py made of cells: a cell that does not parse is blanked, so every line stays where the student wrote it."""
    lines: list[str] = []
    warnings: list[str] = []
    magics: list[str] = []
    skipped: list[Skipped] = []
    for cell in cells:
        start = len(lines) + 1
        fixed, notes, problem = _parsed_cell(cell)
        if problem is not None:
            # The student reads the .py, not the cell: its lines are the file's.
            problem = _parse_problem(fixed, first_line=start) or problem
            skipped.append(Skipped(f"the cell at line {start}", _first_line(cell), tuple(defined_names(cell)), problem,
                                   cell, start))
            warnings.append(skipped[-1].warning())
            fixed = "\n" * cell.count("\n")
        magics += notes if problem is None else []
        lines += fixed.split("\n")
    text, unrun = _joined_cells(lines, magics, warnings, filename=filename, cells="its cells", run_all=run_all)
    return Program(text, filename, tuple(warnings), unrun=unrun, skipped=tuple(skipped))


def load_cells(sources: list[str], *, filename: str, run_all: bool, warnings: list[str]) -> Program:
    """Cells in order: magics neutralised, cells that do not parse skipped with a warning naming them."""
    warnings = list(warnings)
    lines: list[str] = []
    line_map: list[tuple[int, int]] = []
    magics: list[str] = []
    body: list[ast.stmt] = []
    skipped: list[Skipped] = []
    # The one future import that changes how later code parses (on some Pythons): such a program is parsed whole.
    together = any("barry_as_FLUFL" in source for source in sources)
    for number, source in enumerate(sources, start=1):
        if not source.strip():
            continue
        cell, notes, problem, tree = _placed_cell(source, line=len(lines) + 1)
        if problem is not None:
            skipped.append(Skipped(f"code cell {number}", _first_line(source), tuple(defined_names(source)), problem,
                                   source, 1, number))
            warnings.append(skipped[-1].warning())
            continue
        magics += notes
        body += tree.body
        cell_lines = _LINE_BREAK.split(cell)  # as Python counts them: a lone CR ends a line too
        lines += cell_lines + [""]
        line_map += [(number, line) for line in range(1, len(cell_lines) + 1)] + [(number, len(cell_lines) + 1)]
    # Cells that each parse alone parse together, into the same statements: each ends where a statement
    # may (no bracket, string or backslash left open) and the next starts at column 0.
    program = None if together else ast.Module(body=body, type_ignores=[])
    text, unrun = _joined_cells(lines, magics, warnings, filename=filename, cells="the notebook's cells",
                                run_all=run_all, tree=program)
    if len(python_lines(text)) != len(line_map):
        line_map = []  # definitions_only had to unparse: line numbers no longer match the cells
    return Program(text, filename, tuple(warnings), tuple(line_map), unrun, tuple(skipped))


def source_kind(filename: str) -> str | None:
    """What a file name says the file holds: ".py" or ".ipynb" (in any case), or None for anything else.

    A name a download added a suffix to (`hw.ipynb.txt`, `hw.py.json`) still says what it held.
    """
    suffixes = [suffix.lower() for suffix in PurePosixPath(filename).suffixes]
    if suffixes and suffixes[-1] in SUFFIXES:
        return suffixes[-1]
    if len(suffixes) > 1 and suffixes[-1] in ADDED_SUFFIXES and suffixes[-2] in SUFFIXES:
        return suffixes[-2]
    return None


def source_stem(filename: str) -> str:
    """The file name without the suffixes source_kind read: `Alice.PY` -> `Alice`, `bob.ipynb.txt` -> `bob`."""
    path = PurePosixPath(PurePosixPath(filename).name)
    if source_kind(path.name) is not None and path.suffix.lower() in ADDED_SUFFIXES:
        path = path.with_suffix("")
    return path.stem


def _held_kind(text: str, kind: str) -> str:
    """What text is, where its name says otherwise: a notebook's JSON saved as .py, or Python source saved as
    .ipynb (a rename, an upload form's conversion); kind, what the name says, in every other case."""
    if kind == ".py" and text.lstrip().startswith("{") and '"cells"' in text:
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            return kind
        return ".ipynb" if isinstance(document, dict) and "cells" in document and "nbformat" in document else kind
    if kind == ".ipynb" and not text.lstrip().startswith(("{", "[")):
        return ".py" if _parse(text)[0] is not None else kind
    return kind


def load_bytes(data: bytes, *, filename: str, run_all: bool = False) -> Program:
    """Load a submission's bytes by what its file name says they are, or by what they plainly hold where that
    differs (with a warning); raises LoadError with a one-line reason."""
    kind = source_kind(filename)
    if kind is None:
        suffix = Path(filename).suffix
        raise LoadError(f"{filename}: gradgrade grades {', '.join(SUFFIXES)} files, not {suffix or 'files without a suffix'}")
    text = decode_text(data, filename=filename)
    held = _held_kind(text, kind)
    if held == ".ipynb":
        program = load_notebook(text, filename=filename, run_all=run_all)
    else:
        program = load_python(text, filename=filename, run_all=run_all)
    if held != kind:
        what = "a notebook" if held == ".ipynb" else "Python source"
        program = replace(program, warnings=(f"{filename} holds {what} under a {kind} name: graded as "
                                             f"{what}",) + program.warnings)
    added = PurePosixPath(filename).suffix
    if added.lower() in ADDED_SUFFIXES:
        what = "a notebook" if held == ".ipynb" else "Python source"
        program = replace(program, warnings=(f"{filename} was read as {what}: its name ends in {added}, "
                                             f"added after {kind} (by a download, perhaps)",) + program.warnings)
    return program


def load(path: Path, *, run_all: bool = False) -> Program:
    """Load a submission file; raises LoadError with a one-line reason."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise LoadError(f"cannot read {path.name}: {error.strerror or error}") from None
    return load_bytes(data, filename=path.name, run_all=run_all)
