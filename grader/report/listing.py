"""A graded function's source as the student's page shows it: highlighted, in the student's line numbers,
the lines a diagnosis or an error names marked with what was said about them, long stretches folded."""
from __future__ import annotations

import builtins
import functools
import io
import keyword
import re
import tokenize
from dataclasses import dataclass

from markupsafe import Markup, escape
from pygments import format as format_tokens, lex
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer
from pygments.token import Token, _TokenType

from grader.results import CheckResult, FunctionSource, SourceStatus

# Every rule of Pygments' stylesheet is scoped to this class, so it styles the listings and nothing else.
SCOPE = ".listing .src"
# A function longer than this, with a marked line, shows only the marked lines with CONTEXT lines either
# side; the rest folds into <details>. A hidden stretch shorter than MIN_FOLD is shown instead.
FOLD_OVER = 30
CONTEXT = 3
MIN_FOLD = 3
MARK_TEXT = 300
# Characters that draw nothing or reorder what follows (controls, NUL, bidi overrides and isolates, zero
# widths, separators, lone surrogates): a listing shows a visible stand-in, so code reads as Python does.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
                        "\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]")
_PROGRAM_LINE = re.compile(r"\(line (\d+)\)")


def _stand_in(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode's control pictures: ␀, ␛, ...
    return "\u2421" if code == 0x7F else f"\u27e8U+{code:04X}\u27e9"


def visible(text: str) -> str:
    """text with every invisible or reordering character replaced by a visible stand-in (␀, ⟨U+202E⟩)."""
    return _INVISIBLE.sub(_stand_in, text)


@functools.cache
def _formatter() -> HtmlFormatter:
    return HtmlFormatter(nowrap=True)


@functools.cache
def stylesheet() -> Markup:
    """Pygments' rules for the listings' tokens, scoped to them; a page inlines it once."""
    rules = _formatter().get_style_defs(SCOPE).splitlines()
    # Only the token rules (".listing .src .k"): the rule for the block itself would paint over marked lines.
    return Markup("\n".join(rule for rule in rules if rule.startswith(SCOPE + " .")))


_BUILTINS = frozenset(dir(builtins))
_PUNCTUATION = frozenset("()[]{},:;.")


def _name(word: str, previous: str) -> _TokenType:
    if word in ("True", "False", "None"):
        return Token.Keyword.Constant
    if keyword.iskeyword(word):
        return Token.Keyword
    if previous in ("def", "class"):
        return Token.Name.Function if previous == "def" else Token.Name.Class
    return Token.Name.Builtin if word in _BUILTINS else Token.Name


def python_tokens(text: str) -> list[tuple[_TokenType, str]] | None:
    """text as Pygments tokens, read by Python's own tokenizer (a third of the time Pygments' PythonLexer takes
    on a student's function, which a batch pays once per student); None where the tokenizer gives up (code
    that does not parse, an unclosed bracket), for Pygments' lexer to read instead. The tokens' texts join
    back into text exactly."""
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    found: list[tuple[_TokenType, str]] = []
    position, previous = 0, ""
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            start = min(starts[token.start[0] - 1] + token.start[1], len(text))
            end = min(starts[token.end[0] - 1] + token.end[1], len(text))
            if start < position or end < start:
                return None
            if start > position:
                found.append((Token.Text, text[position:start]))
            word = text[start:end]
            kind = tokenize.tok_name[token.type]
            if token.type == tokenize.NAME:
                found.append((_name(word, previous), word))
                previous = word
            elif word:
                found.append((Token.Number if token.type == tokenize.NUMBER
                              else Token.String if token.type == tokenize.STRING or kind.startswith("FSTRING")
                              else Token.Comment if token.type == tokenize.COMMENT
                              else Token.Punctuation if word in _PUNCTUATION
                              else Token.Operator if token.type == tokenize.OP else Token.Text, word))
            position = end
    except (tokenize.TokenError, SyntaxError, IndexError):
        return None
    if position < len(text):
        found.append((Token.Text, text[position:]))
    return found


@functools.lru_cache(maxsize=256)
def highlighted(text: str) -> tuple[Markup, ...]:
    """The highlighted HTML of each line of text (escaped; stand-ins for invisible characters).

    Cached: a batch renders each student's page once, but the same source also reaches a rerun's page or
    a check that graded it twice.
    """
    lines = visible(text).split("\n")
    shown = "\n".join(lines) + "\n"
    tokens = python_tokens(shown)
    html = format_tokens(tokens if tokens is not None else lex(shown, PythonLexer(stripnl=False, ensurenl=True)),
                         _formatter())
    rendered = html.split("\n")[:-1] if html.endswith("\n") else html.split("\n")
    if len(rendered) != len(lines):  # never seen; a listing must keep every line where the student has it
        return tuple(Markup(escape(line)) for line in lines)
    return tuple(Markup(line) for line in rendered)


@dataclass(frozen=True)
class Mark:
    """What the page says about one line: a diagnosis's hint, an error, or why the code does not parse."""

    kind: str  # "diagnosis", "error" or "problem"
    text: str
    label: str = ""  # the mutant (or operator) of a diagnosis


@dataclass(frozen=True)
class Line:
    number: int
    where: str  # "line 15", "code cell 4, line 11" or "In [4], line 11": as the student counts
    html: Markup
    marks: tuple[Mark, ...] = ()


@dataclass(frozen=True)
class Block:
    """Lines shown in a row; a folded block is behind a <details> the reader can open."""

    lines: tuple[Line, ...]
    folded: bool = False


@dataclass(frozen=True)
class Listing:
    source: FunctionSource
    blocks: tuple[Block, ...]
    marked: int  # how many lines carry a mark

    @property
    def where(self) -> str:
        """Where the shown lines are: "lines 5-30" or "code cell 4, lines 1-26"."""
        lines = [line.number for block in self.blocks for line in block.lines]
        if not lines:
            return ""
        span = f"line {lines[0]}" if len(lines) == 1 else f"lines {lines[0]}–{lines[-1]}"
        return f"{self.source.cell_name}, {span}" if self.source.cell_name else span


def _shorter(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MARK_TEXT else text[:MARK_TEXT - 1] + "…"


def _place(source: FunctionSource) -> re.Pattern[str]:
    """How a message names a line of the shown file or cell: "(line 20)", "(code cell 4, line 11)", "(In [4], line 11)"."""
    if not source.cell_name:
        return _PROGRAM_LINE
    return re.compile(re.escape(f"({source.cell_name}, line ") + r"(\d+)\)")


def marks(check: CheckResult) -> dict[int, list[Mark]]:
    """Each marked line's marks, by the line's index in the check's source."""
    source = check.source
    found: dict[int, list[Mark]] = {}
    if source is None or not source.text:
        return found
    count = source.text.count("\n") + 1

    def add(index: int, mark: Mark) -> None:
        if 0 <= index < count:
            entries = found.setdefault(index, [])
            if mark not in entries:
                entries.append(mark)

    if source.status is SourceStatus.UNPARSED and source.problem_line is not None:
        add(source.problem_line - source.line, Mark("problem", _shorter(source.note)))
    if source.program_line:
        for diagnosis in check.diagnosis:
            if diagnosis.line:
                add(diagnosis.line - source.program_line,
                    Mark("diagnosis", diagnosis.hint, diagnosis.mutant or diagnosis.operator))
    place = _place(source)
    for message in [check.message] + [case.message for case in check.cases]:
        for number in place.findall(message):
            if int(number) - source.line not in found:
                add(int(number) - source.line, Mark("error", _shorter(place.sub("", message))))
    return found


def _blocks(lines: list[Line], marked: set[int]) -> tuple[Block, ...]:
    if len(lines) <= FOLD_OVER or not marked:
        return (Block(tuple(lines)),)
    shown = {0} | {index for mark in marked for index in range(mark - CONTEXT, mark + CONTEXT + 1)}
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        end = index
        folded = index not in shown
        while end < len(lines) and (end not in shown) == folded:
            end += 1
        if folded and end - index < MIN_FOLD:
            folded = False
        if blocks and not blocks[-1].folded and not folded:
            blocks[-1] = Block(blocks[-1].lines + tuple(lines[index:end]))
        else:
            blocks.append(Block(tuple(lines[index:end]), folded))
        index = end
    return tuple(blocks)


def listing(check: CheckResult) -> Listing | None:
    """The check's function as its page shows it, or None when the result carries no source to show."""
    source = check.source
    if source is None or not source.text:
        return None
    found = marks(check)
    lines = []
    for index, html in enumerate(highlighted(source.text)):
        number = source.line + index
        lines.append(Line(number, source.where(number), html, tuple(found.get(index, ()))))
    return Listing(source, _blocks(lines, set(found)), len(found))
