"""Whole-file writes: the reports' permissions are a plain write's, and a failed write leaves the old file."""
from __future__ import annotations

import os
import stat
import threading

import pytest

from grader.report.atomic import write_atomic


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_new_file_gets_what_the_umask_leaves(tmp_path, umask_027):
    write_atomic(tmp_path / "index.html", "<p>class</p>")
    assert mode(tmp_path / "index.html") == 0o640
    assert (tmp_path / "index.html").read_text(encoding="utf-8") == "<p>class</p>"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_rewritten_file_keeps_its_own_permissions(tmp_path, umask_027):
    page = tmp_path / "alice.html"
    page.write_text("old", encoding="utf-8")
    os.chmod(page, 0o604)
    write_atomic(page, "new é")
    assert mode(page) == 0o604 and page.read_text(encoding="utf-8") == "new é"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    page = tmp_path / "grades.csv"
    page.write_text("student,score\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(page, "bad \udc80 surrogate")
    assert page.read_text(encoding="utf-8") == "student,score\n"
    assert [entry.name for entry in tmp_path.iterdir()] == ["grades.csv"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_pipe_named_as_the_output_is_written_to_not_replaced(tmp_path):
    pipe = tmp_path / "results.json"
    os.mkfifo(pipe)
    received = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text(encoding="utf-8")), daemon=True)
    reader.start()
    write_atomic(pipe, '{"score": 1}')
    reader.join(timeout=10)
    assert received == ['{"score": 1}']
    assert stat.S_ISFIFO(os.stat(pipe).st_mode) and [entry.name for entry in tmp_path.iterdir()] == ["results.json"]


def test_a_folder_that_is_not_there_is_named_in_the_error(tmp_path):
    with pytest.raises(FileNotFoundError) as raised:
        write_atomic(tmp_path / "missing" / "index.html", "x")
    assert raised.value.filename == str(tmp_path / "missing" / "index.html")
