"""Turn a submission file (.py or .ipynb) into the source the sandbox runs, with what loading said."""
from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path, PurePosixPath

from grader.load.decode import decode_text
from grader.load.keep import kept_program, names_set
from grader.load.kinds import ADDED_SUFFIXES, SUFFIXES, held_kind, source_kind
from grader.load.loaded import LoadError, Program
from grader.load.notebook import load_notebook, load_script_cells, script_cells
from grader.load.parse import parse, remembered
from grader.load.salvage import salvage_statements

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
        tree = parse(text)[0] if skipped else None
        if tree is None or not any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in tree.body):
            raise LoadError(whole) from None
    except (MemoryError, RecursionError):
        raise LoadError(f"{filename} is too deeply nested to parse") from None
    else:
        skipped = []
    warnings = tuple(part.warning() for part in skipped)
    if run_all:
        return Program(remembered(text, tree), filename, warnings, skipped=tuple(skipped))
    source, kept, dropped = kept_program(text, tree)
    if dropped:
        warnings += (f"{len(dropped)} top-level statement(s) that are not definitions were not run",)
    return Program(remembered(source, kept), filename, warnings, unrun=names_set(dropped), skipped=tuple(skipped))


def load_bytes(data: bytes, *, filename: str, run_all: bool = False) -> Program:
    """Load a submission's bytes by what its file name says they are, or by what they plainly hold where that
    differs (with a warning); raises LoadError with a one-line reason."""
    kind = source_kind(filename)
    if kind is None:
        suffix = Path(filename).suffix
        raise LoadError(f"{filename}: gradgrade grades {', '.join(SUFFIXES)} files, not {suffix or 'files without a suffix'}")
    text = decode_text(data, filename=filename)
    held = held_kind(text, kind)
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
