"""Turn a submission file into the source the sandbox runs: parse, keep definitions, warn about the rest."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".py",)


class LoadError(Exception):
    """A submission that cannot be graded at all; the message is one line for the student."""


@dataclass(frozen=True)
class Program:
    """The code gradgrade will run for a submission, and what loading it had to say."""

    source: str
    filename: str
    warnings: tuple[str, ...] = ()


def _is_constant(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def keeps(statement: ast.stmt) -> bool:
    """Whether a top-level statement is kept by default: imports, definitions and constant assignments."""
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(statement, ast.Assign):
        return all(isinstance(target, ast.Name) for target in statement.targets) and _is_constant(statement.value)
    if isinstance(statement, ast.AnnAssign):
        return isinstance(statement.target, ast.Name) and (statement.value is None or _is_constant(statement.value))
    return False


def definitions_only(text: str, tree: ast.Module) -> tuple[str, int]:
    """The source with every top-level statement that is not kept blanked out, and how many were.

    Blanking instead of unparsing keeps every line where the student wrote it, so messages that
    name a line point into the student's own file.
    """
    lines = text.splitlines()
    spans = [(statement.lineno, statement.end_lineno or statement.lineno, keeps(statement))
             for statement in tree.body]
    kept_lines = {line for start, end, kept in spans if kept for line in range(start, end + 1)}
    dropped = 0
    for start, end, kept in spans:
        if kept:
            continue
        dropped += 1
        if any(line in kept_lines for line in range(start, end + 1)):
            # A line shared with a kept statement (`x = 1; run()`): fall back to unparsing.
            body = [statement for statement in tree.body if keeps(statement)]
            return ast.unparse(ast.Module(body=body, type_ignores=[])), dropped
        for line in range(start, end + 1):
            lines[line - 1] = ""
    return "\n".join(lines) + "\n", dropped


def decode_text(data: bytes, *, filename: str) -> str:
    """The submission's text, or a LoadError saying in one line why it has none."""
    if not data.strip():
        raise LoadError(f"{filename} is empty")
    if b"\x00" in data:
        raise LoadError(f"{filename} is a binary file, not Python source or a notebook")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LoadError(f"{filename} is not UTF-8 text (bad byte at offset {error.start})") from None


def load_python(text: str, *, filename: str, run_all: bool = False) -> Program:
    """A .py submission: the whole file must parse; by default only definitions are kept."""
    try:
        tree = ast.parse(text, filename=filename)
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None)
        where = f" at line {line}" if line else ""
        raise LoadError(f"{filename} does not parse{where}: {getattr(error, 'msg', error)}") from None
    if run_all:
        return Program(text, filename)
    source, dropped = definitions_only(text, tree)
    warnings = (f"{dropped} top-level statement(s) that are not definitions were not run",) if dropped else ()
    return Program(source, filename, warnings)


def load_bytes(data: bytes, *, filename: str, run_all: bool = False) -> Program:
    """Load a submission's bytes by its file name's suffix; raises LoadError with a one-line reason."""
    suffix = Path(filename).suffix
    if suffix not in SUFFIXES:
        raise LoadError(f"{filename}: gradgrade grades {', '.join(SUFFIXES)} files, not {suffix or 'files without a suffix'}")
    return load_python(decode_text(data, filename=filename), filename=filename, run_all=run_all)


def load(path: Path, *, run_all: bool = False) -> Program:
    """Load a submission file; raises LoadError with a one-line reason."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise LoadError(f"cannot read {path.name}: {error.strerror or error}") from None
    return load_bytes(data, filename=path.name, run_all=run_all)
