"""Notebooks: read the code cells, make IPython's magics inert, join the cells into one program."""
from __future__ import annotations

import ast
import json
import re
import warnings as _warnings

from grader.load.keep import kept_program, names_set
from grader.load.loaded import LoadError, Program, Skipped
from grader.load.parse import LINE_BREAK, parse, parse_problem, python_lines, remembered
from grader.load.salvage import defined_names, first_line

PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "pypy", "python", "python3"})
_LINE_MAGIC = re.compile(r"^(\s*)(%|!)")
_ASSIGNED_MAGIC = re.compile(r"^(\s*)([A-Za-z_][\w.,\s\[\]]*?)\s*=\s*(%|!)")
_HELP = re.compile(r"^(\s*)(\?+[\w.]*|[\w.]+\?\??)\s*$")
_CELL_MARKER = re.compile(r"^# (In\[[ \d]*\]:|%%)")


def neutralise(cell: str) -> tuple[str, list[str]]:
    """A cell with IPython's magics, shell escapes and help queries made inert, line for line.

    A cell magic whose body is Python keeps its body; any other cell magic (%%bash, %%writefile...)
    empties the cell. Returns the cell and what was neutralised, for warnings.
    """
    lines = LINE_BREAK.split(cell)
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
    tree = parse(padding + cell)[0]
    if tree is not None:
        return cell, [], None, tree  # only a cell that does not parse is rewritten: a '%' in a string stays
    fixed, notes = neutralise(cell)
    tree, problem = parse(padding + fixed)
    if tree is not None:
        return fixed, notes, None, tree
    # The message names lines: those of the cell's own, parsed at line 1.
    return fixed, notes, problem if line == 1 else parse_problem(fixed), None


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
        tree, problem = parse(text)  # parsed once: the same tree tells what to keep
    if tree is None:
        raise LoadError(f"{filename}: {cells} do not parse together: {problem}")
    if run_all:
        return remembered(text, tree), ()
    text, kept, dropped = kept_program(text, tree)
    if dropped:
        warnings.append(f"{len(dropped)} top-level statement(s) that are not definitions were not run")
    return remembered(text, kept), names_set(dropped)


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
            problem = parse_problem(fixed, first_line=start) or problem
            skipped.append(Skipped(f"the cell at line {start}", first_line(cell), tuple(defined_names(cell)), problem,
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
            skipped.append(Skipped(f"code cell {number}", first_line(source), tuple(defined_names(source)), problem,
                                   source, 1, number))
            warnings.append(skipped[-1].warning())
            continue
        magics += notes
        body += tree.body
        cell_lines = LINE_BREAK.split(cell)  # as Python counts them: a lone CR ends a line too
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
