"""The command line: exit codes, the table, and the result/v1 JSON contract."""
import csv
import io
import json
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import cli


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, timeout=120)


def test_missing_file_exits_2_with_one_line(tmp_path):
    completed = run_cli("check", str(tmp_path / "nope.py"))
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0 and "no such file" in completed.stderr


def test_file_without_the_function_exits_1_with_status_missing(tmp_path):
    path = tmp_path / "empty_module.py"
    path.write_text("import numpy as np\n")
    completed = run_cli("check", str(path), "--format", "json")
    assert completed.returncode == 1
    result = json.loads(completed.stdout)
    backward = next(c for c in result["checks"] if c["name"] == "backward_propagation_n")
    assert backward["status"] == "missing" and "backward_propagation_n" in backward["message"]


def test_total_timeout_stops_a_submission_slow_in_every_call(tmp_path, capsys):
    path = tmp_path / "slow.py"
    path.write_text("import time\nimport numpy as np\n"
                    "def backward_propagation_n(X, Y, cache):\n"
                    "    time.sleep(0.4)\n"
                    "    return {name: np.zeros((1, 1)) for name in ('dW1', 'db1', 'dW2', 'db2', 'dW3', 'db3')}\n")
    code = cli.main(["check", str(path), "--format", "json", "--timeout", "5", "--total-timeout", "1"])
    result = json.loads(capsys.readouterr().out)
    backward = next(c for c in result["checks"] if c["name"] == "backward_propagation_n")
    assert code == 1
    assert backward["status"] == "timeout"
    assert result["message"] == "the submission ran longer than the 1 s allowed for the whole submission and was stopped"


def test_json_output_follows_the_contract(submissions_dir):
    completed = run_cli("check", str(submissions_dir / "planted_bugs.py"), "--format", "json")
    assert completed.returncode == 1
    result = json.loads(completed.stdout)
    assert result["schema"] == "gradgrade/result/v1"
    assert {"submission", "assignment", "status", "score", "max_score", "checks"} <= result.keys()
    assert result["status"] in ("pass", "fail", "error")
    backward = next(c for c in result["checks"] if c["name"] == "backward_propagation_n")
    assert {"name", "status", "difference", "threshold", "message", "parameters", "diagnosis"} <= backward.keys()
    assert set(backward["parameters"]) == {"dW1", "db1", "dW2", "db2", "dW3", "db3"}
    for parameter in backward["parameters"].values():
        assert parameter["status"] in ("pass", "fail") and "message" in parameter
        assert parameter["difference"] is None or isinstance(parameter["difference"], float)
    assert backward["parameters"]["dW2"]["status"] == "fail"


def test_text_output_has_one_row_per_parameter_and_a_verdict(submissions_dir):
    completed = run_cli("check", str(submissions_dir / "correct_matmul.py"))
    assert completed.returncode == 0
    lines = completed.stdout.splitlines()
    for name in ("dW1", "db1", "dW2", "db2", "dW3", "db3"):
        assert any(line.startswith(name + " ") for line in lines)
    assert lines[-1].startswith("verdict: PASS")


@pytest.mark.parametrize("argv", [
    pytest.param(["check"], id="no-file"),
    pytest.param(["frobnicate"], id="unknown-command"),
    pytest.param(["check", "x.py", "--threshold", "-1"], id="negative-threshold"),
    pytest.param(["check", "x.py", "--assignment", "nope"], id="unknown-assignment"),
    pytest.param(["check", "x.py", "--total-timeout", "0"], id="zero-total-timeout"),
])
def test_usage_errors_exit_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.py").write_text("pass\n")
    assert cli.main(argv) == 2


def test_an_unwritable_html_page_is_one_line_and_exit_2(submissions_dir, tmp_path, capsys):
    page = tmp_path / "no-such-folder" / "page.html"
    assert cli.main(["check", str(submissions_dir / "correct_matmul.py"), "--html", str(page)]) == 2
    assert "cannot write" in capsys.readouterr().err



def _one_class(tmp_path, submissions_dir):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_bytes((submissions_dir / "wrong_mask.py").read_bytes())
    return folder


@pytest.mark.parametrize("spoil, words", [  # each spoils tmp_path/out and gives the --out to use
    pytest.param(lambda out: out.write_text("a file") and out, "is a file, not a folder", id="out-is-a-file"),
    pytest.param(lambda out: (out.parent / "a.txt").write_text("x") and out.parent / "a.txt" / "out",
                 "cannot open the gradebook", id="out-under-a-file"),
    pytest.param(lambda out: out.mkdir() or (out / "gradebook.sqlite").write_bytes(b"not sqlite" * 100) and out,
                 "cannot open the gradebook", id="gradebook-not-a-database"),
    pytest.param(lambda out: out.mkdir() or (out / "index.html").mkdir() or out, "every grade is in the gradebook",
                 id="a-report-cannot-be-written"),
])
def test_an_unusable_output_folder_is_one_line_and_exit_2(tmp_path, submissions_dir, capsys, spoil, words):
    folder = _one_class(tmp_path, submissions_dir)
    out = spoil(tmp_path / "out")
    assert cli.main(["grade", str(folder), "--out", str(out), "--jobs", "1"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("gradgrade: ") and error.count("\n") == 1 and words in error, error


@pytest.mark.parametrize("jobs", ["0", "-3", "two"])
def test_grade_refuses_a_count_of_workers_that_is_not_positive(tmp_path, capsys, jobs):
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--jobs", jobs]) == 2
    assert "argument --jobs" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file names are always UTF-8")
def test_a_class_folder_whose_name_is_not_utf8_is_graded_and_reported(tmp_path, submissions_dir):
    import os
    import shutil

    folder = os.path.join(os.fsencode(tmp_path), b"cl\xe9ss")
    os.mkdir(folder)
    shutil.copy(submissions_dir / "wrong_mask.py", os.path.join(folder, b"alice.py"))
    out = os.path.join(os.fsencode(tmp_path), b"out\xe9")
    # Output that is strict about its encoding must not stop the run when it prints such a path.
    completed = subprocess.run([sys.executable, "-m", "grader", "grade", folder, "--out", out], capture_output=True,
                               timeout=300, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert completed.returncode == 0, completed.stderr
    assert b"class page" in completed.stdout and b"\\udce9" in completed.stdout
    page = open(os.path.join(out, b"index.html"), encoding="utf-8").read()
    assert "cl\\xe9ss · three_layer" in page


def test_console_script_is_installed():
    completed = subprocess.run(["gradgrade", "--help"], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0 and "check" in completed.stdout


def test_an_installed_gradgrade_ships_every_file_it_reads():
    """A wheel holds each listed package's own modules and the package-data globs, nothing else: every file
    of grader/, reference/ and mutants/ (the catalogue the checker's probes come from) must be one of them,
    and every package folder below grader/ must be listed."""
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages, data = setuptools["packages"], setuptools.get("package-data", {})
    folders = {package: root / setuptools.get("package-dir", {}).get(package, package.replace(".", "/"))
               for package in packages}
    missing = []
    for top in ("grader", "reference", "mutants"):
        for path in sorted((root / top).rglob("*")):
            relative = path.relative_to(root).as_posix()
            if not path.is_file() or "__pycache__" in relative:
                continue
            owners = [(package, path.relative_to(folder).as_posix()) for package, folder in folders.items()
                      if path.is_relative_to(folder)]
            shipped = any((path.suffix == ".py" and "/" not in inner)
                          or any(fnmatch.fnmatch(inner, glob) for glob in data.get(package, []))
                          for package, inner in owners)
            if not shipped:
                missing.append(relative)
    assert missing == []


def test_version_comes_from_the_package_metadata(capsys):
    from importlib.metadata import version

    assert cli.main(["--version"]) == cli.EXIT_PASS
    assert capsys.readouterr().out.strip() == f"gradgrade {version('gradgrade')}"
    completed = subprocess.run(["gradgrade", "--version"], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0 and completed.stdout.strip() == f"gradgrade {version('gradgrade')}"


def test_the_terminal_rounds_scores_to_two_decimals(submissions_dir, tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text("[backward]\npoints = 2\n")  # 2 points over 6 parameters: thirds
    completed = run_cli("check", str(submissions_dir / "planted_bugs.py"), "--rubric", str(rubric))
    assert "1.33/2 points" in completed.stdout and "1.33333" not in completed.stdout
    completed = run_cli("check", str(submissions_dir / "planted_bugs.py"), "--rubric", str(rubric), "--format", "json")
    assert json.loads(completed.stdout)["checks"][0]["points"] == pytest.approx(4 / 3, abs=1e-6)


@pytest.fixture(scope="module")
def shaped_class(tmp_path_factory):
    """The real-shaped fixtures (tests/shapes.py) in one class folder, graded by `gradgrade grade`."""
    import shapes

    folder = tmp_path_factory.mktemp("shapes") / "class"
    folder.mkdir()
    for name, (data, _) in shapes.shapes().items():
        (folder / name).write_bytes(data)
    out = folder.parent / "out"
    assert cli.main(["grade", str(folder), "--out", str(out), "--jobs", "1"]) == cli.EXIT_PASS
    results = {result["submission"]: result for result in json.loads((out / "results.json").read_text())}
    return folder, results


def _shapes():
    import shapes

    return [pytest.param(name, score, id=name) for name, (_, score) in shapes.shapes().items()]


@pytest.mark.parametrize("name, score", _shapes())
def test_real_shaped_files_grade_as_their_content_deserves_by_check_and_grade_alike(shaped_class, capsys, name, score):
    folder, graded = shaped_class
    code = cli.main(["check", str(folder / name), "--format", "json"])
    checked = json.loads(capsys.readouterr().out)
    stem = name.rsplit(".", 1)[0]
    for result in (checked, graded[stem]):
        assert result["score"] == score and result["max_score"] == 10
        statuses = {check["name"]: check["status"] for check in result["checks"]}
        assert statuses["backward_propagation_n"] == "pass"
        assert statuses["gradient_check_n"] == ("pass" if score == 10 else "error")
    assert code == (cli.EXIT_PASS if score == 10 else cli.EXIT_FAIL)
    assert {key: checked[key] for key in ("status", "score", "warnings")} == {
        key: graded[stem][key] for key in ("status", "score", "warnings")}
    if score < 10:
        checker = next(check for check in checked["checks"] if check["name"] == "gradient_check_n")
        assert "TabError at line 55" in checker["message"] and "the statement at line 47" in checker["message"]


def _class_zip(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("class/alice.py", "x = 1\n")


@pytest.mark.parametrize("make, words", [
    pytest.param(lambda path: path.mkdir(), "is a folder", id="folder"),
    pytest.param(_class_zip, "is a zip archive", id="zip"),
])
def test_check_of_a_class_says_what_it_is_and_suggests_grade(tmp_path, capsys, make, words):
    path = tmp_path / ("class.zip" if "zip" in words else "class")
    make(path)
    assert cli.main(["check", str(path)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert words in err and f"gradgrade grade {path}" in err and "no such file" not in err
    assert len(err.strip().splitlines()) == 1


TERM_SECTIONS = ("Late work", "Overrides", "Regrading one student", "LMS import", "nbgrader feedback folders")


def _readme_section(title: str) -> str:
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n### {title}\n")
    return text[start:text.index("\n#", start + 5)]


def _readme_blocks(section: str, language: str = "") -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def test_the_readme_commands_of_the_term_workflows_run(tmp_path, submissions_dir, monkeypatch, capsys):
    """Every command the README's late work, overrides, regrading, LMS import and feedback sections show,
    run in the order shown on a Canvas download (DIR), with the late policy the README shows as rubric.toml
    (tests/test_readme.py runs them on the sample class)."""
    canvas = tmp_path / "canvas"
    canvas.mkdir()
    (canvas / "doejane_1234_56789_gc.py").write_bytes((submissions_dir / "wrong_mask.py").read_bytes())
    (canvas / "smithbob_LATE_2345_67890_gc.py").write_bytes((submissions_dir / "correct_matmul.py").read_bytes())
    late_section = _readme_section("Late work")
    (tmp_path / "rubric.toml").write_text(_readme_blocks(late_section, "toml")[0])
    monkeypatch.chdir(tmp_path)
    commands = [line for title in TERM_SECTIONS for block in _readme_blocks(_readme_section(title), "sh")
                for line in block.splitlines() if line.startswith("gradgrade ")]
    assert len(commands) == 14
    placeholders = {"DIR": "canvas", "OUT": "reports", "STUDENT": "doejane_1234"}
    for command in commands:
        argv = [placeholders.get(word, word) for word in shlex.split(command, comments=True)[1:]]
        if argv[0] == "grade" and "--id-pattern" not in argv:
            argv += ["--id-pattern", "canvas"]  # a Canvas download: the README's LMS section names it
        if argv[0] == "grade":
            argv += ["--jobs", "1"]
        assert cli.main(argv) == 0, command
        if argv[0] == "override" and "--clear" not in argv:
            assert "set to" in capsys.readouterr().out
    rows = list(csv.reader(io.StringIO((tmp_path / "canvas-import.csv").read_text())))
    assert rows[0][-1] == "Gradient checking (4321)" and rows[2][:2] == ["doejane", "1234"]
    assert (tmp_path / "moodle-worksheet.csv").read_text().startswith("Identifier,")
    feedback = tmp_path / "reports" / "feedback" / "doejane_1234" / "three_layer" / "doejane_1234_56789_gc.html"
    assert feedback.is_file() and "Late work" in (tmp_path / "reports" / "feedback" / "smithbob_2345" / "three_layer"
                                                  / "smithbob_LATE_2345_67890_gc.html").read_text()
