"""A batch's progress: one plain line per submission in a pipe, a bar on a terminal, file names escaped."""
from __future__ import annotations

import io

import pytest

from grader.batch.progress import BarProgress, LineProgress, progress_for


def test_a_progress_line_shows_control_characters_of_a_file_name_escaped():
    stream = io.StringIO()
    progress = LineProgress(stream)
    progress.start(1)
    progress.advance({"submission": "new\nline\x1b[31m", "status": "fail", "score": 4.0, "max_score": 10.0})
    assert stream.getvalue().splitlines()[1:] == ["[1/1] new\\nline\\x1b[31m: fail 4/10"]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream, kind", [
    pytest.param(FakeTerminal(), BarProgress, id="terminal-bar"),
    pytest.param(io.StringIO(), LineProgress, id="pipe-lines"),
])
def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise(stream, kind):
    progress = progress_for(stream)
    assert isinstance(progress, kind)
    progress.start(2)
    for student in ("alice", "bob"):
        progress.advance({"submission": student, "status": "pass", "score": 6.0, "max_score": 6.0})
    progress.close()
    text = stream.getvalue()
    if kind is BarProgress:
        assert "2/2" in text and "\r" in text
    else:
        assert text.splitlines()[1:] == ["[1/2] alice: pass 6/6", "[2/2] bob: pass 6/6"]
