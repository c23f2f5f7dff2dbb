"""Parse student text as Python numbers it: its lines, its tree (kept for later steps), or why not."""
from __future__ import annotations

import ast
import re
import warnings as _warnings

# The syntax trees of the programs loaded last, by source: a later step that reads a program's code
# (diagnose's gradient_lines) takes the tree loading made instead of parsing the program again.
# A process grades one submission at a time, so a few suffice.
_TREES: dict[str, ast.Module] = {}
_TREES_KEPT = 4
# Where Python's tokenizer ends a line. str.splitlines also splits at form feeds, \x85, \u2028 and
# others, which a string literal may hold: splitting there would move every later line and break the literal.
LINE_BREAK = re.compile("\r\n|\r|\n")


def python_lines(text: str) -> list[str]:
    """text's lines as Python numbers them (str.splitlines, but only at \\n, \\r\\n and \\r)."""
    lines = LINE_BREAK.split(text)
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


def remembered(source: str, tree: ast.Module | None) -> str:
    """source, with tree (what parsing source gives) remembered for syntax_tree when there is one."""
    if tree is not None:
        _remember(source, tree)
    return source


# What only Python 2 wrote: print and exec statements, `except E, e`, backquotes, `<>`, `print >>f`, 0777,
# ur'' strings, `raise E, "message"`. Files of courses that began in Python 2 are full of them.
_PYTHON2_MESSAGES = ("Missing parentheses in call to 'print'", "Missing parentheses in call to 'exec'",
                     "multiple exception types must be parenthesized",
                     "leading zeros in decimal integer literals are not permitted")
_PYTHON2_LINE = re.compile(r"`|<>|^\s*print\s*>>|^\s*print\s+[\"'\w]|\bur[\"']|^\s*raise\s+\w+\s*,|^\s*exec\s+[\"'\w]")


def _python2(error: BaseException) -> bool:
    """Whether a SyntaxError is Python 2 code (its message, or the line it points at)."""
    message = str(getattr(error, "msg", ""))
    return any(message.startswith(known) for known in _PYTHON2_MESSAGES) or \
        bool(_PYTHON2_LINE.search(getattr(error, "text", None) or ""))


def parse(text: str, *, first_line: int = 1) -> tuple[ast.Module | None, str | None]:
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
        if _python2(error):
            kind = f"Python 2 syntax ({kind})"
        return None, f"{kind} at line {line}: {getattr(error, 'msg', error)}" if line else f"{kind}: {error}"
    except (MemoryError, RecursionError):
        return None, "too deeply nested to parse"


def parse_problem(text: str, *, first_line: int = 1) -> str | None:
    """Why text does not parse as Python (one line), or None when it does."""
    return parse(text, first_line=first_line)[1]
