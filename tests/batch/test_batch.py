"""Grading a class: the sample class end to end, bad and hostile submissions, the reports, exit codes."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from grader import assignments, cli
from grader.batch import batch, discover, entries, reports
from grader.grading import pipeline
from grader.report import html
from grader.batch.executors import SHARED_SERVER_WORKERS, Job, LocalExecutor, grade_job
from grader.batch.progress import NoProgress
from grader.results import submission_from_json
from grader.settings import Settings
from grader.batch.student_ids import IdPattern
from grader.load import files as reading

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "submissions"
HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
CORRECT = {"correct_course_style", "correct_matmul", "correct_helpers"}
BROKEN = {
    "binary.py": b"\x7fELF\x00\x01\x02",
    "syntax_error.py": b"def backward_propagation_n(X, Y, cache)\n    return {}\n",
    "empty.py": b"",
    "latin1.py": "# caf\xe9\n".encode("latin-1"),
    "not_a_notebook.ipynb": b"{ this is not json",
}


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    summary = batch.grade(SUBMISSIONS, out, Settings(), assignment=assignments.get("three_layer"), jobs=2)
    return summary, out


def test_sample_class_gets_a_page_per_submission_and_a_class_page(sample_report):
    summary, out = sample_report
    students = [submission.student for submission in discover.discover(SUBMISSIONS, assignment=assignments.get("three_layer"))]
    assert [result.submission for result in summary.results] == students
    index = (out / "index.html").read_text()
    for student in students:
        page = out / summary.pages[student]
        assert page.is_file() and student in page.read_text()
        assert f'href="{summary.pages[student]}"' in index
    assert summary.not_graded == ("README.md",) and "<code>README.md</code>" in index


def test_backward_verdicts_match_the_sample_class_readme(sample_report):
    summary, _ = sample_report
    for result in summary.results:
        backward = result.check("backward_propagation_n")
        expected = "pass" if result.submission.split(".")[0] in CORRECT else "fail"
        assert backward.status.value == expected, result.submission


def test_results_json_is_the_list_of_result_objects(sample_report):
    summary, out = sample_report
    documents = json.loads((out / "results.json").read_text())
    assert [d["schema"] for d in documents] == ["gradgrade/result/v1"] * len(summary.results)
    assert [submission_from_json(d) for d in documents] == list(summary.results)


def test_results_json_holds_one_result_object_a_line(sample_report):
    summary, out = sample_report
    lines = (out / "results.json").read_text().splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == len(summary.results) + 2
    assert [json.loads(line.rstrip(",")) for line in lines[1:-1]] == [result.to_json() for result in summary.results]
    assert json.loads(reports.results_json(())) == []


def test_the_pages_made_while_grading_are_the_pages_the_reports_alone_make(sample_report, tmp_path):
    summary, out = sample_report
    reports.write_reports(summary.results, tmp_path, title="")
    for student, page in summary.pages.items():
        assert (out / page).read_bytes() == (tmp_path / page).read_bytes(), student


def test_the_results_json_made_while_grading_is_the_one_the_reports_alone_make(sample_report):
    summary, out = sample_report
    assert (out / "results.json").read_text() == reports.results_json(summary.results)


class _ErrorRows:
    """An executor that grades nothing: each job gets an error row at once, in the order given."""

    def run(self, jobs):
        for job in jobs:
            yield job.key, pipeline.error_result(job.key, Settings(), "not graded in this test").to_json()

    def close(self):
        pass


def _small_class(tmp_path, count=4):
    folder = tmp_path / "class"
    folder.mkdir()
    for index in range(count):
        (folder / f"student{index}.py").write_text(f"x = {index}\n")
    return folder


def test_a_rerun_removes_the_pages_of_students_no_longer_in_the_class_and_nothing_else(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("alice.py", "bob.py"):
        (folder / name).write_bytes((SUBMISSIONS / "wrong_mask.py").read_bytes())
    out = tmp_path / "out"
    batch.grade(folder, out, Settings(), assignment=assignments.get("three_layer"), jobs=1)
    (out / "notes.html").write_text("<p>the instructor's own notes</p>")
    (folder / "bob.py").rename(folder / "robert.py")  # a file renamed: bob's page would describe no one now
    summary = batch.grade(folder, out, Settings(), assignment=assignments.get("three_layer"), jobs=1)
    assert sorted(summary.pages.values()) == ["alice.html", "robert.html"]
    assert sorted(path.name for path in out.glob("*.html")) == ["alice.html", "index.html", "notes.html",
                                                                "robert.html"]


def test_each_page_is_on_disk_as_soon_as_its_result_is_in(tmp_path):
    out = tmp_path / "out"
    pages_seen = []

    class Watching(NoProgress):
        def advance(self, result):
            pages_seen.append(sorted(path.name for path in out.glob("*.html")))

    summary = batch.grade(_small_class(tmp_path), out, Settings(), assignment=assignments.get("three_layer"), executor=_ErrorRows(), progress=Watching())
    names = [summary.pages[result.submission] for result in summary.results]
    assert pages_seen == [sorted(names[:index]) for index in range(len(names))]


def test_a_page_that_cannot_be_written_while_grading_is_written_with_the_reports(tmp_path, monkeypatch):
    real_write = reports.write_atomic
    grading = {"now": True}

    def full_disk_while_grading(path, text):
        if grading["now"] and path.suffix == ".html":
            raise OSError(28, "No space left on device")
        real_write(path, text)

    class Finished(NoProgress):
        def close(self):
            grading["now"] = False

    monkeypatch.setattr(reports, "write_atomic", full_disk_while_grading)
    out = tmp_path / "out"
    summary = batch.grade(_small_class(tmp_path), out, Settings(), assignment=assignments.get("three_layer"), executor=_ErrorRows(), progress=Finished())
    assert len(summary.results) == 4 and all((out / page).is_file() for page in summary.pages.values())


def test_grades_csv_has_scores_and_points_per_check(sample_report):
    summary, out = sample_report
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert [row["student"] for row in rows] == [result.submission for result in summary.results]
    for row, result in zip(rows, summary.results):
        assert float(row["score"]) == pytest.approx(result.score)
        assert float(row["max_score"]) == pytest.approx(result.max_score) and row["status"] == result.status.value
        assert float(row["backward_propagation_n"]) == pytest.approx(result.check("backward_propagation_n").points)


def test_bad_submissions_get_error_rows_and_the_batch_goes_on(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name, data in BROKEN.items():
        (folder / name).write_bytes(data)
    (folder / "good.py").write_bytes((SUBMISSIONS / "correct_matmul.py").read_bytes())
    summary = batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=2)
    by_student = {result.submission: result for result in summary.results}
    assert by_student["good"].check("backward_propagation_n").status.value == "pass"
    for name in BROKEN:
        result = by_student[Path(name).stem]
        assert result.status.value != "pass" and result.score == 0
        assert "Traceback" not in result.message
    assert len(list((tmp_path / "out").glob("*.html"))) == len(BROKEN) + 2


def test_no_student_goes_missing_without_a_word(tmp_path):
    correct = (SUBMISSIONS / "correct_matmul.py").read_bytes()
    folder = tmp_path / "class"
    handed_in = io.BytesIO()
    with zipfile.ZipFile(handed_in, "w") as zipped:
        zipped.writestr("ps1/solution.py", correct)
    for name, data in {"alice/solution.py": correct, "bob/hw.zip": b"PK", "carol/Homework.PY": correct,
                       "dave/ps1.zip": handed_in.getvalue(), "README.md": b"# ps1"}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    summary = batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1)
    by_student = {result.submission: result for result in summary.results}
    assert by_student["alice"].check("backward_propagation_n").status.value == "pass"
    assert by_student["carol"].check("backward_propagation_n").status.value == "pass"
    assert by_student["dave"].check("backward_propagation_n").status.value == "pass"
    assert "graded dave/ps1.zip/ps1/solution.py, from inside the zip" in by_student["dave"].warnings
    assert by_student["bob"].status.value == "error"
    assert by_student["bob"].message == "no .py or .ipynb file in bob/ (it holds hw.zip)"
    assert summary.not_graded == ("README.md",)
    assert summary.line().endswith("; 1 file(s) not graded (not .py or .ipynb): README.md")
    index = (tmp_path / "out" / "index.html").read_text()
    assert 'href="#not-graded"' in index and "<code>README.md</code>" in index


def test_the_summary_line_lists_a_few_files_not_graded_and_counts_the_rest():
    assert batch.not_graded_note([]) == ""
    assert batch.not_graded_note([f"f{i}.txt" for i in range(7)]) == (
        "; 7 file(s) not graded (not .py or .ipynb): f0.txt, f1.txt, f2.txt, f3.txt, f4.txt and 2 more")


def test_a_file_that_becomes_unreadable_before_grading_gets_its_own_error(tmp_path, monkeypatch):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("planted_bugs.py", "correct_matmul.py"):
        (folder / name).write_bytes((SUBMISSIONS / name).read_bytes())
    reads: dict[str, int] = {}
    original = entries.Submission.read

    def read_once(submission):
        reads[submission.student] = reads.get(submission.student, 0) + 1
        if submission.student == "planted_bugs" and reads[submission.student] > 1:
            raise reading.UnreadableSubmission("planted_bugs.py: removed while the batch ran")
        return original(submission)

    monkeypatch.setattr(entries.Submission, "read", read_once)
    summary = batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1)
    by_student = {result.submission: result for result in summary.results}
    assert by_student["planted_bugs"].status.value == "error"
    assert by_student["planted_bugs"].message == "planted_bugs.py: removed while the batch ran"
    assert by_student["correct_matmul"].status.value == "pass"


class CountingProgress:
    def __init__(self) -> None:
        self.total, self.shown = None, []

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, result: dict) -> None:
        self.shown.append(result["submission"])

    def close(self) -> None:
        pass


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_the_progress_counts_submissions_unreadable_from_the_start(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "good.py").write_bytes((SUBMISSIONS / "correct_matmul.py").read_bytes())
    os.mkfifo(folder / "pipe.py")
    progress = CountingProgress()
    summary = batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1, progress=progress)
    assert progress.total == 2 and sorted(progress.shown) == ["good", "pipe"]
    assert summary.graded == 2 and {r.submission: r.status.value for r in summary.results} == {"good": "pass",
                                                                                                "pipe": "error"}

def test_zip_of_the_class_grades_like_the_folder(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("planted_bugs.py", "correct_matmul.py"):
            zipped.write(SUBMISSIONS / name, f"class/{name}")
    summary = batch.grade(archive, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1)
    assert {r.submission: r.status.value for r in summary.results} == {"correct_matmul": "pass", "planted_bugs": "fail"}


def _worker_dies_on_poison(job: Job) -> dict:
    if job.key == "poison":
        os._exit(3)
    return grade_job(job)


def test_local_executor_survives_a_dying_worker():
    data = (SUBMISSIONS / "correct_matmul.py").read_bytes()
    jobs = [Job(key, "x.py", data, Settings().to_json()) for key in ("a", "poison", "b")]
    with LocalExecutor(2, grade=_worker_dies_on_poison) as executor:
        results = dict(executor.run(jobs))
    assert set(results) == {"a", "poison", "b"}
    assert results["poison"]["status"] == "error" and "died" in results["poison"]["message"]
    assert results["a"]["checks"] and results["b"]["checks"]


def _worker_state(job: Job) -> dict:
    import gc

    from grader import assignments
    from grader.grading import matching
    warmed = matching.catalogue_candidates.cached_on(assignments.get(Settings.from_json(job.settings).assignment))
    return {"frozen": gc.get_freeze_count(), "catalogue": int(warmed)}


def test_a_warmed_worker_holds_the_catalogue_out_of_the_garbage_collectors_sight():
    job = Job("a", "x.py", b"", Settings().to_json())
    with LocalExecutor(1, warm=Settings().to_json(), grade=_worker_state) as executor:
        (_, state), = executor.run([job])
    with LocalExecutor(1, grade=_worker_state) as executor:
        (_, cold), = executor.run([job])
    assert state["catalogue"] == 1 and state["frozen"] > 10_000
    assert cold == {"frozen": 0, "catalogue": 0}


def _sandbox_use(job: Job) -> dict:
    from grader.sandbox import forkclient
    from grader.sandbox import run as sandbox

    run = sandbox.run("def f():\n    return 1\n", [sandbox.Call("f")])
    server = forkclient.fork_server()
    return {"value": run.outcomes[0].value, "shared": server is not None and server.process is None}


def _servers(pid: int) -> list[int]:
    """The fork servers among pid's descendants (not their children, which carry the same command line)."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        command = Path(f"/proc/{child}/cmdline").read_bytes()
        found += [int(child)] if b"grader.sandbox.forkserver" in command else _servers(int(child))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox forks from a server on Linux only")
def test_a_pools_workers_share_the_fork_server_of_the_process_that_made_the_pool():
    from grader.sandbox import forkclient

    jobs = [Job(key, "x.py", b"", Settings().to_json()) for key in "abcdef"]
    with LocalExecutor(2, warm=Settings().to_json(), grade=_sandbox_use) as executor:
        results = dict(executor.run(jobs))
        assert _servers(os.getpid()) == [forkclient.fork_server().process.pid]
        assert all(result == {"value": 1, "shared": True} for result in results.values())
        # Should the shared server die, each worker starts one of its own and grades on.
        server = forkclient.fork_server().process
        server.kill()
        server.wait()
        again = dict(executor.run(jobs))
    assert all(result == {"value": 1, "shared": False} for result in again.values())
    # Past SHARED_SERVER_WORKERS, one server would keep the workers waiting: each starts its own.
    with LocalExecutor(SHARED_SERVER_WORKERS + 1, warm=Settings().to_json(), grade=_sandbox_use) as executor:
        results = dict(executor.run(jobs))
    assert all(result == {"value": 1, "shared": False} for result in results.values())


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, timeout=300)


def test_cli_grade_exits_0_whatever_the_scores_and_prints_plain_lines(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "planted_bugs.py").write_bytes((SUBMISSIONS / "planted_bugs.py").read_bytes())
    completed = run_cli("grade", str(folder), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert completed.returncode == 0, completed.stderr
    assert "[1/1] planted_bugs: fail" in completed.stdout and "\r" not in completed.stdout
    assert "1 fail" in completed.stdout.splitlines()[-1]


def test_cli_grade_with_an_id_pattern_keys_the_gradebook_and_pages_by_the_lms_ids(tmp_path):
    folder = tmp_path / "canvas"
    folder.mkdir()
    (folder / "doejane_1234_5_gradient_checking.py").write_bytes((SUBMISSIONS / "planted_bugs.py").read_bytes())
    (folder / "roeric_LATE_77_6_gradient_checking.py").write_bytes((SUBMISSIONS / "sign_flip.py").read_bytes())
    out = tmp_path / "out"
    completed = run_cli("grade", str(folder), "--out", str(out), "--jobs", "1", "--id-pattern", "canvas")
    assert completed.returncode == 0, completed.stderr
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert [(row["student"], row["status"]) for row in rows] == [("doejane_1234", "fail"), ("roeric_77", "fail")]
    assert (out / "doejane_1234.html").is_file() and (out / "roeric_77.html").is_file()


def test_cli_grade_refuses_an_id_pattern_that_is_no_regular_expression(tmp_path):
    completed = run_cli("grade", str(SUBMISSIONS), "--out", str(tmp_path / "out"), "--id-pattern", "(")
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    assert "'(' is not a regular expression" in completed.stderr.splitlines()[-1]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("target", [pytest.param("missing", id="missing"), pytest.param("file.txt", id="not-a-folder")])
def test_cli_grade_exits_2_when_the_class_path_is_unusable(tmp_path, target):
    (tmp_path / "file.txt").write_text("x")
    completed = run_cli("grade", str(tmp_path / target), "--out", str(tmp_path / "out"))
    assert completed.returncode == 2 and completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr


def test_cli_grade_will_not_write_the_reports_among_the_submissions(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "a.py").write_bytes((SUBMISSIONS / "missing_m.py").read_bytes())
    (folder / "grades.csv").write_text("the instructor's roster\n")
    completed = run_cli("grade", str(folder), "--out", str(tmp_path / "." / "class"))
    assert completed.returncode == 2 and completed.stderr.count("\n") == 1, completed.stderr
    assert "is the class folder itself" in completed.stderr
    assert (folder / "grades.csv").read_text() == "the instructor's roster\n"
    assert sorted(path.name for path in folder.iterdir()) == ["a.py", "grades.csv"]


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file names are always UTF-8")
def test_a_file_name_that_is_not_utf8_costs_no_one_a_grade(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_bytes((SUBMISSIONS / "wrong_mask.py").read_bytes())
    with open(os.path.join(os.fsencode(folder), b"\xff\xfebob.py"), "wb") as handle:
        handle.write((SUBMISSIONS / "wrong_mask.py").read_bytes())
    summary = batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1)
    assert sorted(result.submission for result in summary.results) == ["\\xff\\xfebob", "alice"]
    assert all(result.status.value == "fail" and result.checks for result in summary.results)
    assert all((tmp_path / "out" / page).is_file() for page in summary.pages.values())
    assert len((tmp_path / "out" / "grades.csv").read_text(encoding="utf-8").splitlines()) == 3


def test_check_html_writes_the_student_page(tmp_path):
    page = tmp_path / "page.html"
    code = cli.main(["check", str(SUBMISSIONS / "planted_bugs.py"), "--html", str(page)])
    assert code == 1
    text = page.read_text()
    assert 'class="parameters"' in text and "planted_bugs" in text


# Runs the grader as a child subreaper: any process the batch leaves behind is reparented to it and listed.
SUBREAPER = textwrap.dedent("""
    import ctypes, json, os, subprocess, sys, time
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    import tempfile
    # Files, not pipes: a leftover process holding a pipe would make run() wait for it and hide it.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        code = subprocess.run(sys.argv[1:], stdout=out, stderr=err).returncode
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    time.sleep(0.5)
    while True:  # reap orphans that already exited: a zombie is not a process left running
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    me = str(os.getpid())
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[1] == me and fields[0] != "Z":
            left.append(open(f"/proc/{pid}/cmdline").read().replace("\\0", " "))
    print(json.dumps({"code": code, "stdout": stdout, "stderr": stderr, "left": left}))
""")


@pytest.mark.skipif(not HOSTILE.is_dir() or not sys.platform.startswith("linux"),
                    reason="needs the hostile submissions of tests/hostile and Linux's child subreaper")
def test_hostile_class_finishes_every_one_non_pass_no_process_left(tmp_path):
    out = tmp_path / "out"
    completed = subprocess.run(
        [sys.executable, "-c", SUBREAPER, sys.executable, "-m", "grader", "grade", str(HOSTILE), "--out", str(out),
         "--jobs", "2", "--timeout", "2"], capture_output=True, text=True, timeout=600)
    report = json.loads(completed.stdout)
    assert report["code"] == 0, report["stderr"]
    assert report["left"] == []
    results = json.loads((out / "results.json").read_text())
    assert len(results) == len(list(HOSTILE.glob("*.py")))
    for result in results:
        assert result["status"] != "pass" and result["message"], result["submission"]
    escapes = [Path("/tmp/gradgrade-hostile-escape"), Path.home() / "gradgrade-hostile-escape",
               Path("/tmp").parent / "gradgrade-hostile-escape"]
    assert not [path for path in escapes if path.exists()]


def test_an_unreadable_file_is_not_counted_as_graded_again_on_a_rerun(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 4096)  # the real bound is hundreds of MiB
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "good.py").write_bytes((SUBMISSIONS / "correct_matmul.py").read_bytes())
    (folder / "big.py").write_bytes(b"#" * (reading.MAX_FILE_BYTES + 1))
    first = batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1)
    assert (first.graded, first.reused) == (2, 0)
    again = batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1)
    assert (again.graded, again.reused) == (0, 2) and "graded 0, reused 2" in again.line()
    assert {r.submission: r.status.value for r in again.results} == {"big": "error", "good": "pass"}
    forced = batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1, force=True)
    assert (forced.graded, forced.reused) == (2, 0)


def test_an_id_with_spaces_or_accents_gets_a_safe_page_the_class_page_links(tmp_path):
    import re
    import unicodedata

    code = (SUBMISSIONS / "wrong_mask.py").read_bytes()
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:  # as macOS's Archive Utility writes names: decomposed
        zipped.writestr(unicodedata.normalize("NFD", "José Núñez_123456_assignsubmission_file_/gc.py"), code)
        zipped.writestr("Eric Roe_654321_assignsubmission_file_/gc.py", code)
    out = tmp_path / "out"
    summary = batch.grade(archive, out, Settings(), assignment=assignments.get("three_layer"), jobs=1, id_pattern=IdPattern.parse("moodle"))
    assert [result.submission for result in summary.results] == ["Eric Roe_654321", "José Núñez_123456"]
    assert re.fullmatch(r"Eric_Roe_654321-[0-9a-f]{8}\.html", summary.pages["Eric Roe_654321"])
    assert re.fullmatch(r"Jos_N_ez_123456-[0-9a-f]{8}\.html", summary.pages["José Núñez_123456"])
    index = (out / "index.html").read_text(encoding="utf-8")
    for student, page in summary.pages.items():
        assert (out / page).is_file() and f'href="{page}"' in index
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"))))
    assert [row["student"] for row in rows] == ["Eric Roe_654321", "José Núñez_123456"]
    # The same class unpacked on disk, names composed: the same students, nothing graded again.
    folder = tmp_path / "class"
    for name in ("José Núñez_123456_assignsubmission_file_", "Eric Roe_654321_assignsubmission_file_"):
        (folder / name).mkdir(parents=True)
        (folder / name / "gc.py").write_bytes(code)
    again = batch.grade(folder, out, Settings(), assignment=assignments.get("three_layer"), jobs=1, id_pattern=IdPattern.parse("moodle"))
    assert (again.graded, again.reused) == (0, 2) and again.pages == summary.pages


def _nbgrader_class(tmp_path, stamps):
    """nbgrader's submitted/<student>/ps1/ with a notebook-less .py and a timestamp.txt each."""
    for student, stamp in stamps.items():
        folder = tmp_path / "course" / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        (folder / "gc.py").write_bytes((SUBMISSIONS / "correct_matmul.py").read_bytes())
        (folder / "timestamp.txt").write_text(stamp)
    return tmp_path / "course"


def test_lateness_reaches_grades_csv_results_json_the_gradebook_and_both_pages(tmp_path):
    from grader.batch import gradebook
    from grader.grading import late

    course = _nbgrader_class(tmp_path, {"alice": "2026-03-01 20:00:00.000000 UTC",
                                        "bob": "2026-03-03 11:59:00.000000 UTC"})
    policy = late.policy_from_table({"per": "day", "penalty": 0.2, "cap": 0.3, "grace_minutes": 15})
    rules = late.LateRules(due=late.parse_due("2026-03-01T23:59Z"), policy=policy)
    summary = batch.grade(course, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1, late_rules=rules)
    out = tmp_path / "out"
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
    assert (rows["alice"]["late"], rows["alice"]["late_penalty"], rows["alice"]["final_score"]) == ("on_time", "0", "10")
    assert (rows["bob"]["late"], rows["bob"]["hours_late"], rows["bob"]["late_penalty"], rows["bob"]["final_score"],
            rows["bob"]["late_source"], rows["bob"]["score"]) == ("late", "36.00", "3", "7", "nbgrader timestamp.txt", "10")
    documents = {d["submission"]: d for d in json.loads((out / "results.json").read_text())}
    assert documents["bob"]["late"]["submitted"] == "2026-03-03T11:59:00+00:00" and documents["bob"]["final_score"] == 7
    with gradebook.open_gradebook(out) as book:
        assert book.lateness()["bob"].penalty == 3.0 and book.lateness()["alice"].status.value == "on_time"
    bob_page = (out / summary.pages["bob"]).read_text()
    assert "Late work" in bob_page and "1 d 12 h" in bob_page and "nbgrader timestamp.txt" in bob_page
    index = (out / "index.html").read_text()
    assert "late 1 d 12 h, −3" in index


def test_a_canvas_late_marker_is_not_dropped_without_a_due_time(tmp_path):
    from grader.batch.student_ids import IdPattern

    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "smithbob_LATE_2345_67890_gc.py").write_bytes((SUBMISSIONS / "wrong_mask.py").read_bytes())
    summary = batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1, id_pattern=IdPattern.parse("canvas"))
    result = summary.results[0]
    assert result.late.status.value == "late" and result.late.penalty == 0 and result.final == result.score
    assert "no late penalty was applied" in (tmp_path / "out" / summary.pages["smithbob_2345"]).read_text()
    row = next(csv.DictReader(io.StringIO((tmp_path / "out" / "grades.csv").read_text())))
    assert (row["late"], row["late_source"]) == ("late", "Canvas LATE marker")


def test_student_regrades_only_that_student_and_reuses_the_rest(tmp_path):
    folder = _small_class(tmp_path, count=4)
    out = tmp_path / "out"
    batch.grade(folder, out, Settings(), assignment=assignments.get("three_layer"), jobs=1)
    # A longer timeout for one student: the others' rows were graded under other settings, and are reused.
    summary = batch.grade(folder, out, Settings(timeout=30.0), assignment=assignments.get("three_layer"), jobs=1, students=["student2"])
    assert (summary.graded, summary.reused) == (1, 3) and "graded 1, reused 3" in summary.line()
    with pytest.raises(batch.UnknownStudent, match="no submission of 'nobody'"):
        batch.grade(folder, out, Settings(), assignment=assignments.get("three_layer"), jobs=1, students=["nobody"])


def test_student_on_the_command_line(tmp_path, capsys):
    folder = _small_class(tmp_path, count=3)
    out = tmp_path / "out"
    assert cli.main(["grade", str(folder), "--out", str(out), "--jobs", "1"]) == 0
    assert cli.main(["grade", str(folder), "--out", str(out), "--jobs", "1", "--student", "student1"]) == 0
    assert "graded 1, reused 2" in capsys.readouterr().out
    assert cli.main(["grade", str(folder), "--out", str(out), "--student", "ghost"]) == 2
    assert "no submission of 'ghost'" in capsys.readouterr().err


def test_the_nbgrader_feedback_layout_and_the_class_page_links(tmp_path):
    course = _nbgrader_class(tmp_path, {"alice": "2026-03-01 20:00:00 UTC", "bob": "2026-03-01 20:00:00 UTC"})
    out = tmp_path / "out"
    summary = batch.grade(course, out, Settings(), assignment=assignments.get("three_layer"), jobs=1, layout="nbgrader")
    assert summary.pages == {"alice": "feedback/alice/three_layer/gc.html", "bob": "feedback/bob/three_layer/gc.html"}
    page = (out / "feedback" / "alice" / "three_layer" / "gc.html").read_text()
    assert 'href="../../../index.html"' in page
    index = (out / "index.html").read_text()
    assert 'href="feedback/alice/three_layer/gc.html"' in index and not (out / "alice.html").exists()
    # Back to the flat layout: the nbgrader pages are stale and go, the flat ones come.
    summary = batch.grade(course, out, Settings(), assignment=assignments.get("three_layer"), jobs=1)
    assert (out / "alice.html").is_file() and not (out / "feedback" / "alice" / "three_layer" / "gc.html").exists()


def test_the_class_page_links_each_misconception_to_every_student_with_it(sample_report):
    _, out = sample_report
    results = [submission_from_json(entry) for entry in json.loads((out / reports.RESULTS_JSON).read_text())]
    having: dict[str, set[str]] = {}
    for result in results:
        for check in result.checks:
            for diagnosis in check.diagnosis:
                having.setdefault(diagnosis.operator or diagnosis.mutant, set()).add(result.submission)
    pages = html.page_names(result.submission for result in results)
    index = (out / reports.INDEX_HTML).read_text()
    table = index.split('<table class="misconceptions">')[1].split("</table>")[0]
    rows = table.split("<tr id=")[1:]
    assert len(rows) == min(len(having), html.TOP) and len(having) >= 3
    for row in rows:
        operator = re.search(r'<td class="num">\d+</td><td>([^<]+)', row).group(1)
        links = re.findall(r'<a href="([^"#]+)#([^"]+)">', row)
        anchor = html.misconception_anchor(operator)
        assert sorted(page for page, _ in links) == sorted(pages[student] for student in having[operator])
        for page, target in links:
            assert target == anchor and f'id="{anchor}"' in (out / page).read_text()


def section_class(root: Path) -> dict[str, bytes]:
    """Two sections of students, one in a folder of their own, and one student's two versions."""
    files = {"sec1/alice.py": "correct_matmul.py", "sec1/bob.ipynb": "planted_bugs.ipynb",
             "sec2/carol.py": "sign_flip.py", "sec2/dan/gc.ipynb": "correct_course_style.ipynb",
             "sec2/erin/gc_v1.ipynb": "wrong_mask.ipynb", "sec2/erin/gc_v2.ipynb": "correct_matmul.ipynb"}
    return {name: (SUBMISSIONS / source).read_bytes() for name, source in files.items()}


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_a_class_in_section_folders_grades_every_student_with_their_group(tmp_path, zipped):
    files = section_class(tmp_path)
    if zipped:
        target = tmp_path / "class.zip"
        with zipfile.ZipFile(target, "w") as archive:
            for name, data in files.items():
                archive.writestr(zipfile.ZipInfo(f"class/{name}", (2026, 3, 1, 12, 0, 0)), data)
    else:
        target = tmp_path / "class"
        for name, data in files.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(data)
            os.utime(target / name, (1_772_000_000, 1_772_000_000))
    out = tmp_path / "out"
    summary = batch.grade(target, out, Settings(), assignment=assignments.get("three_layer"), jobs=2)
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
    assert {student: (row["group"], row["file"], row["status"]) for student, row in rows.items()} == {
        "alice": ("sec1", "sec1/alice.py", "pass"), "bob": ("sec1", "sec1/bob.ipynb", "fail"),
        "carol": ("sec2", "sec2/carol.py", "fail"), "dan": ("sec2", "sec2/dan/gc.ipynb", "pass"),
        "erin": ("sec2", "sec2/erin/gc_v2.ipynb", "pass")}
    assert list(rows["alice"])[:4] == ["student", "score", "max_score", "status"]
    results = {result["submission"]: result for result in json.loads((out / "results.json").read_text())}
    assert results["erin"]["group"] == "sec2" and results["erin"]["other_files"] == ["sec2/erin/gc_v1.ipynb"]
    index = (out / "index.html").read_text()
    assert "<th>group</th>" in index and "<code>sec2/erin/gc_v2.ipynb</code>" in index
    erin = (out / summary.pages["erin"]).read_text()
    assert "graded <code>sec2/erin/gc_v2.ipynb</code>" in erin and "<code>sec2/erin/gc_v1.ipynb</code>" in erin


def test_a_rerun_keeps_each_pick_while_the_files_are_the_same_and_the_instructor_overrides_it(tmp_path):
    folder = tmp_path / "class"
    for student in ("alice", "bob"):
        (folder / student).mkdir(parents=True)
        (folder / student / "gc_v1.py").write_bytes((SUBMISSIONS / "wrong_mask.py").read_bytes())
        (folder / student / "gc_v2.py").write_bytes((SUBMISSIONS / "correct_matmul.py").read_bytes())
        for name, seconds in (("gc_v1.py", 1_772_000_000), ("gc_v2.py", 1_772_086_400)):
            os.utime(folder / student / name, (seconds, seconds))
    out = tmp_path / "out"
    first = batch.grade(folder, out, Settings(), assignment=assignments.get("three_layer"), jobs=1)
    assert {r.submission: (r.file, r.status.value) for r in first.results} == {
        "alice": ("alice/gc_v2.py", "pass"), "bob": ("bob/gc_v2.py", "pass")}
    for student in ("alice", "bob"):  # the folder copied without its times: v1 now looks newer
        os.utime(folder / student / "gc_v1.py", (1_772_200_000, 1_772_200_000))
    again = batch.grade(folder, out, Settings(), assignment=assignments.get("three_layer"), jobs=1)
    assert (again.graded, again.reused) == (0, 2)
    assert [r.file for r in again.results] == ["alice/gc_v2.py", "bob/gc_v2.py"]
    notes = [[w for w in r.warnings if w.startswith("graded ")] for r in again.results]
    assert notes == [[f"graded {s}/gc_v2.py (as graded before: the same files as then); also found {s}/gc_v1.py"]
                     for s in ("alice", "bob")]
    completed = run_cli("grade", str(folder), "--out", str(out), "--jobs", "1", "--pick-file", "bob=gc_v1.py")
    assert completed.returncode == 0, completed.stderr
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
    assert (rows["alice"]["file"], rows["alice"]["status"]) == ("alice/gc_v2.py", "pass")
    assert (rows["bob"]["file"], rows["bob"]["status"]) == ("bob/gc_v1.py", "fail")


def test_an_ambiguous_layout_is_on_the_summary_line_and_the_class_page(tmp_path):
    folder = tmp_path / "class"
    code = (SUBMISSIONS / "correct_matmul.py").read_bytes()
    for name in ("alice/gc.py", "alice/solution.py", "bob/gc.py", "carol/gc.py"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(code)
    summary = batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1)
    assert sorted(r.submission for r in summary.results) == ["alice", "bob", "carol"]
    assert "1 layout question(s), graded one way, listed on the class page: alice/ holds gc.py, solution.py" in summary.line()
    index = (tmp_path / "out" / "index.html").read_text()
    assert 'id="layout"' in index and "which could be several students&#39; work" in index
    reports.refresh(tmp_path / "out")  # the reports written again after an override keep the layout questions
    assert 'id="layout"' in (tmp_path / "out" / "index.html").read_text()


@pytest.mark.parametrize("options, message", [
    (["--pick", "name-pattern"], "needs a pattern"),
    (["--pick-file", "alice"], "expected STUDENT=PATH"),
])
def test_cli_grade_refuses_a_pick_it_cannot_use_in_one_line(tmp_path, options, message):
    completed = run_cli("grade", str(SUBMISSIONS), "--out", str(tmp_path / "out"), *options)
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    assert message in completed.stderr and completed.stderr.count("\n") == 1


def notebook_with_outputs(path: Path, *, megabytes: int) -> Path:
    """The course's correct notebook with a saved plot of megabytes MB in one cell's outputs, written at test
    time (never committed): a notebook as big as students' with their figures still in it."""
    import base64
    import random

    notebook = json.loads((SUBMISSIONS / "correct_matmul.ipynb").read_text())
    image = base64.b64encode(random.Random(7).randbytes(megabytes * 1024 ** 2 * 3 // 4)).decode()
    cell = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                        "data": {"image/png": image, "text/plain": ["<Figure size 640x480 with 1 Axes>"]}}]
    path.write_text(json.dumps(notebook))
    return path


def test_a_notebook_with_50_mb_of_outputs_is_graded_alike_by_check_and_grade(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    big = notebook_with_outputs(folder / "alice.ipynb", megabytes=50)
    assert big.stat().st_size > 50 * 1024 ** 2
    checked = pipeline.grade_file(big, Settings(), submission="alice", assignment=assignments.get("three_layer"))
    summary = batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1)
    assert (checked.status.value, checked.score) == ("pass", checked.max_score)
    assert [(r.status.value, r.score) for r in summary.results] == [(checked.status.value, checked.score)]


def test_a_file_over_the_bound_is_refused_alike_by_check_and_grade(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 1024 ** 2)
    folder = tmp_path / "class"
    folder.mkdir()
    big = notebook_with_outputs(folder / "alice.ipynb", megabytes=2)
    checked = pipeline.grade_file(big, Settings(), submission="alice", assignment=assignments.get("three_layer"))
    summary = batch.grade(folder, tmp_path / "out", Settings(), assignment=assignments.get("three_layer"), jobs=1)
    assert checked.status.value == "error" and checked.message == summary.results[0].message
    assert checked.message.startswith("alice.ipynb is larger than 1 MiB, gradgrade's bound on any one file")
