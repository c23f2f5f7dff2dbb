"""The README's commands, run for real: every command it shows runs here or is listed with the reason it is not.

Each fenced block is a session typed in one fresh copy of the sample class (a temporary folder), its
commands in order; each inline command gets a copy of its own. Placeholders (`FILE`, `DIR`, `OUT`, ...)
become real inputs by the tables below. A README command that is neither run nor listed in NOT_RUN fails
the suite, so a new command is never left unexercised; so does a fenced block without a known language.
"""
from __future__ import annotations

import ast
import concurrent.futures
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader import cli
from grader.grading import score

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
COMMAND_SECONDS = 240

_AUTOGRADER = "run as the README shows it by tests/test_autograder.py::test_the_zip_installs_and_grades_as_on_gradescope"

# Commands the README shows that this test does not run, each with why.
NOT_RUN = {
    "python3 -m venv .venv && . .venv/bin/activate && pip install -q -e '.[test,browser,dask]' && python -m pytest -q":
        "the test suite itself; .ci/run runs this line verbatim on a clean machine "
        "(test_ci_runs_the_readme_test_command checks it is the README's line)",
    "python -m pytest tests/test_check.py tests/test_pipeline.py": "two files of this very suite",
    "python bench/bench_large.py": "a benchmark: bench/ is not run by the tests (timings, minutes of CPU)",
    "python bench/<script>": "the benchmarks: bench/ is not run by the tests (timings, minutes of CPU)",
    "pip install -e '.[dask]'": "installs into the environment; the test's environment has the extra already",
    "pip install -e .": "in prose: how the checkout `gradgrade autograder` needs was installed (as this test's was)",
    "pip wheel": "in prose: what `gradgrade autograder` runs to build its wheel",
    "umask 077": "changes the file mode of what the shell creates next; test_batch checks the reports follow the umask",
    "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=2 dask scheduler --port 8786":
        "the same scheduler as the cluster block's, with Dask's retry setting; that block starts one",
    "gradgrade grade": "the command's name in prose, not a command line",
    "gradgrade gradescope": "reads and writes Gradescope's /autograder; its --submission/--results form runs",
    "python -I": "in prose: the interpreter macOS starts for each submission",
    "python": "in prose: the bench line's field of that name",
    # The Gradescope section's zip and its trial run: tests/test_autograder.py's
    # test_the_zip_installs_and_grades_as_on_gradescope runs these two blocks as the README shows them (a wheel
    # build and a fresh virtual environment installed from the package index: a minute, too slow to run twice).
    "gradgrade autograder --assignment three_layer --rubric rubric.toml --out autograder.zip": _AUTOGRADER,
    "mkdir -p try/submission try/results && unzip -q autograder.zip -d try/source": _AUTOGRADER,
    "cp submissions/planted_bugs.ipynb try/submission/": _AUTOGRADER,
    "AUTOGRADER_ROOT=$PWD/try bash try/source/setup.sh": _AUTOGRADER,
    "AUTOGRADER_ROOT=$PWD/try try/source/run_autograder && python3 -m json.tool try/results/results.json": _AUTOGRADER,
    "gradgrade mutate": "rewrites the repository's own mutants/; the synopsis runs it with --out in a copy",
}

# The whole command where a placeholder means something particular to that command.
RUN_AS = {
    # The set-up is this test's own environment: the main job runs in it.
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && gradgrade grade submissions --out reports":
        "gradgrade grade submissions --out reports",
    "gradgrade check FILE --assignment one_d": "gradgrade check submissions/one_d/correct.py --assignment one_d",
    "gradgrade check my_notebook.ipynb --assignment l_layer": "gradgrade check l_layer.ipynb --assignment l_layer",
    # "Grade your own assignment": the instructor edits the template into the README's spec (written beside it
    # by make_workspace), then checks a student of the example's sample class and grades the class.
    "gradgrade new-assignment softmax_l2": "gradgrade new-assignment softmax_l2 && cp readme_spec.py softmax_l2.py",
    "gradgrade check student.ipynb --assignment softmax_l2.py":
        "gradgrade check softmax_l2_class/correct_vectorized.ipynb --assignment softmax_l2.py",
    "gradgrade grade class/ --assignment softmax_l2.py --out reports":
        "gradgrade grade softmax_l2_class --assignment softmax_l2.py --out reports",
    # One worker process, not 8: the machine running the tests has 2 cores.
    "dask worker tcp://HOST:8786 --nworkers 8 --nthreads 1": "dask worker tcp://127.0.0.1:{port} --nworkers 1 --nthreads 1",
}

# Placeholders after an option: what that option is given.
OPTION_VALUES = {
    "--rubric": "rubric.toml",        # the README's own rubric block
    "--assignment": "three_layer",
    "--threshold": "1e-7",
    "--epsilon": "1e-6",
    "--timeout": "10",
    "--total-timeout": "60",
    "--jobs": "2",
    "--out": "out",
    "--scheduler": "local",
    "--id-pattern": "canvas",
    "--student": "planted_bugs",      # a student of class/
    "--due": "2026-03-01T23:59",
    "--html": "page.html",
    "--submission": "gradescope/submission",
    "--results": "gradescope/results/results.json",
    "--reference": "other_reference.py",   # a copy of reference/three_layer.py
    "--pick-pattern": "final",
}
# Any other placeholder, wherever it stands.
PLACEHOLDERS = {
    "FILE": "submissions/correct_course_style.py",
    "DIR": "class",                   # three submissions of the sample class
    "OUT": "out",
    "class.zip": "class.zip",         # the sample class, zipped
    "my_backprop.py": "submissions/correct_matmul.py",
    "student.ipynb": "submissions/correct_course_style.ipynb",
    "path/to/other_reference.py": "other_reference.py",   # a copy of reference/three_layer.py
    "tcp://HOST:8786": "tcp://127.0.0.1:{port}",
    "8786": "{port}",
    "STUDENT": "planted_bugs",        # a student of class/ (an override, --student)
    "STUDENT=PATH": "planted_bugs=planted_bugs.ipynb",   # --pick-file: a student of DIR and their file
}
OPTION_PLACEHOLDER = re.compile(r"^[A-Z]+$")

# Commands that do not exit 0, and why.
EXIT_CODES = {
    "gradgrade check submissions/planted_bugs.py": (1, "the planted bugs fail"),
    'for f in tests/hostile/*.py; do gradgrade check "$f" --timeout 2; done':
        (1, "a loop exits as its last command: wrong_types.py fails"),
    "gradgrade check tests/hostile/huge_return.py --timeout 10": (1, "a hostile submission errors"),
}

# The README's spec file (its python block starts with this line), written into each workspace as readme_spec.py.
SPEC_FILE = "# softmax_l2.py"

# Python snippets: the notebook or session they run after.
PYTHON_SETUP = {
    "import grader": "the notebook's cells: submissions/correct_course_style.py, beside the course's gc_utils",
    SPEC_FILE: "nothing: a spec file, loaded and screened as --assignment loads it",
    "from grader import large": "a [LINEAR->RELU] x 3 -> LINEAR->SIGMOID network and its true gradients",
}
LARGE_SETUP = '''
import numpy as np
from grader.reference import l_layer

rng = np.random.default_rng(7)
sizes = [12, 7, 5, 4, 1]
parameters = {}
for l in range(1, len(sizes)):
    parameters[f"W{l}"] = rng.standard_normal((sizes[l], sizes[l - 1])) * 0.5
    parameters[f"b{l}"] = rng.standard_normal((sizes[l], 1)) * 0.1
X = rng.standard_normal((12, 16))
Y = (rng.random((1, 16)) > 0.5).astype(float)
AL, caches = l_layer.L_layer_forward(X, parameters)
gradients = l_layer.L_layer_backward(AL, Y, caches)
'''

COMMAND_WORDS = ("gradgrade", "python", "python3", "pip", "dask", "umask", "for")
SERVICES = ("dask scheduler", "dask worker")
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.S | re.M)
LANGUAGES = {"sh", "console", "python", "toml", "text"}


@dataclass(frozen=True)
class Command:
    text: str           # as the README shows it
    group: str          # commands of one group run in order in one folder
    shown: str = ""     # the output the README shows after it (console blocks)


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def fenced_blocks(text: str) -> list[tuple[str, str, int]]:
    """(language, body, line) of every fenced block."""
    return [(match[1], match[2], text.count("\n", 0, match.start()) + 1) for match in FENCE.finditer(text)]


def _is_command(text: str) -> bool:
    words = text.split()
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        words = words[1:]
    return bool(words) and words[0] in COMMAND_WORDS


def _without_comment(line: str) -> str:
    return re.sub(r"\s+#\s.*$", "", line).strip()


def readme_commands(text: str | None = None) -> list[Command]:
    """Every command the README shows: in sh and console blocks, and inline code that starts with a command."""
    text = _readme() if text is None else text
    commands: list[Command] = []
    for language, body, line in fenced_blocks(text):
        group = f"block at line {line}"
        if language == "sh":
            commands += [Command(_without_comment(row), group) for row in body.splitlines() if _without_comment(row)]
        elif language == "console":
            for session in re.split(r"^\$ ", body, flags=re.M)[1:]:
                command, _, shown = session.partition("\n")
                commands.append(Command(command.strip(), group, shown))
    prose = FENCE.sub("", text)
    for match in re.finditer(r"`([^`]+)`", prose):
        span = " ".join(match[1].split())
        if _is_command(span):
            line = text.count("\n", 0, text.index(match[0])) + 1
            commands.append(Command(span, f"inline {span}"))
    return commands


def is_synopsis(text: str) -> bool:
    return "[" in text and text.startswith("gradgrade ")


def _fullest(synopsis: str) -> str:
    """A synopsis with every optional part taken, the first of alternatives: `[--format text|json]` -> `--format text`."""
    text = re.sub(r"\[([^\]]*)\]", r"\1", synopsis)
    return re.sub(r"(\S+)\|\S+", r"\1", text)


def runnable(command: Command, port: int) -> str:
    """The command line this test runs for a README command."""
    text = RUN_AS.get(command.text, command.text)
    if is_synopsis(text):
        text = _fullest(text)
    words = text.split(" ")
    for index, word in enumerate(words):
        before = words[index - 1] if index else ""
        if before in OPTION_VALUES and OPTION_PLACEHOLDER.match(word):
            words[index] = OPTION_VALUES[before]
        elif word in PLACEHOLDERS:
            words[index] = PLACEHOLDERS[word]
    return " ".join(words).replace("{port}", str(port))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _notebook_of(source: str) -> str:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# L-layer gradient checking"),
                      nbformat.v4.new_code_cell(source)]
    return nbformat.writes(notebook)


def make_workspace(folder: Path, rubric: str) -> Path:
    """A folder laid out as the repository's, for the README's relative paths, with the inputs placeholders name."""
    folder.mkdir(parents=True)
    shutil.copytree(ROOT / "submissions", folder / "submissions")
    shutil.copytree(ROOT / "tests" / "hostile", folder / "tests" / "hostile")
    (folder / "class").mkdir()
    for name in ("correct_matmul.py", "planted_bugs.ipynb", "sign_flip.py"):
        shutil.copy(ROOT / "submissions" / name, folder / "class" / name)
    shutil.make_archive(str(folder / "class"), "zip", folder, "submissions")
    shutil.copy(ROOT / "reference" / "three_layer.py", folder / "other_reference.py")
    (folder / "l_layer.ipynb").write_text(_notebook_of((ROOT / "submissions/l_layer/correct_course.py").read_text()))
    (folder / "rubric.toml").write_text(rubric)
    (folder / "readme_spec.py").write_text(_spec_block(_readme()))
    shutil.copytree(ROOT / "examples" / "assignments" / "softmax_l2_class", folder / "softmax_l2_class")
    gradescope = folder / "gradescope" / "submission"
    gradescope.mkdir(parents=True)
    shutil.copy(ROOT / "submissions" / "correct_matmul.py", gradescope / "correct_matmul.py")
    (folder / "home").mkdir()
    return folder


def _environment(folder: Path) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(folder / "home"),
            "PYTHONPATH": str(ROOT), "COLUMNS": "200"}


@dataclass(frozen=True)
class Ran:
    command: Command
    line: str
    returncode: int
    stdout: str
    stderr: str
    folder: Path
    seconds: float


def _wait_for_port(port: int, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"the scheduler did not listen on port {port} within {seconds} s")


# `for f in GLOB; do BODY; done`: this test runs BODY for each file at once, not one after the other.
LOOP = re.compile(r'^for (\w+) in (\S+); do (.*); done$')


def loop_lines(line: str) -> list[str] | None:
    """The commands a shell loop over files runs, in order; None when line is not such a loop."""
    match = LOOP.match(line)
    if not match:
        return None
    variable, pattern, body = match.groups()
    files = sorted(str(path.relative_to(ROOT)) for path in ROOT.glob(pattern))
    assert files, f"{pattern} matches no file"
    return [body.replace(f'"${variable}"', f'"{name}"') for name in files]


def run_group(commands: list[Command], folder: Path, *, lines: list[str] | None = None) -> list[Ran]:
    """Run one session's commands in order in folder; services (a Dask scheduler, its workers) run meanwhile."""
    port = _free_port()
    services: list[subprocess.Popen] = []
    done: list[Ran] = []
    try:
        for index, command in enumerate(commands):
            line = lines[index] if lines else runnable(command, port)
            if line.startswith(SERVICES):
                services.append(subprocess.Popen(line, shell=True, cwd=folder, env=_environment(folder),
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                 stdin=subprocess.DEVNULL, start_new_session=True, executable="/bin/bash"))
                if line.startswith("dask scheduler"):
                    _wait_for_port(port)
                continue
            started = time.monotonic()
            finished = subprocess.run(line, shell=True, cwd=folder, env=_environment(folder), capture_output=True,
                                      stdin=subprocess.DEVNULL, text=True, timeout=COMMAND_SECONDS, executable="/bin/bash")
            done.append(Ran(command, line, finished.returncode, finished.stdout, finished.stderr, folder,
                            time.monotonic() - started))
    finally:
        for service in services:
            os.killpg(service.pid, signal.SIGTERM)
        for service in services:
            try:
                service.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(service.pid, signal.SIGKILL)
                service.wait()
    return done


def _spec_block(text: str) -> str:
    """The README's spec file: its python block that starts with SPEC_FILE."""
    (spec,) = [body for language, body, _ in fenced_blocks(text) if language == "python" and body.startswith(SPEC_FILE)]
    return spec


def _rubric_block(text: str) -> str:
    """The README's rubric: its TOML block with the [backward] table (the one the option runs use)."""
    (rubric,) = [body for language, body, _ in fenced_blocks(text) if language == "toml" and "[backward]" in body]
    return rubric


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> dict[str, Ran]:
    """Every command the README shows and this test runs, run once: by the README's text."""
    text = _readme()
    groups: dict[str, list[Command]] = {}
    for command in readme_commands(text):
        if command.text not in NOT_RUN:
            groups.setdefault(command.group, []).append(command)
    # An inline command that a block also runs is run once, with the block.
    in_blocks = {command.text for name, group in groups.items() if not name.startswith("inline") for command in group}
    groups = {name: group for name, group in groups.items()
              if not (name.startswith("inline") and group[0].text in in_blocks)}
    # A loop over files runs as one session per file, so its files run side by side.
    loops = {name: loop_lines(runnable(group[0], 0)) for name, group in groups.items() if name.startswith("inline")}
    loops = {name: lines for name, lines in loops.items() if lines}
    sessions = [(name, None) for name in groups if name not in loops]
    sessions += [(name, line) for name, lines in loops.items() for line in lines]
    base = tmp_path_factory.mktemp("readme")
    rubric = _rubric_block(text)
    folders = [make_workspace(base / f"session{index}", rubric) for index in range(len(sessions))]

    def run(index: int) -> list[Ran]:
        name, line = sessions[index]
        return run_group(groups[name], folders[index], lines=[line] if line else None)

    # The Dask sessions first (the slowest); three at a time (much of a session waits on a timeout or a start).
    def slowest_first(index: int) -> tuple[bool, int]:
        group = groups[sessions[index][0]]
        return (not any("--scheduler" in command.text for command in group), -len(group))

    order = sorted(range(len(sessions)), key=slowest_first)
    finished: dict[int, list[Ran]] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        for index, done in zip(order, pool.map(run, order)):
            finished[index] = done
    results: dict[str, Ran] = {}
    for index in range(len(sessions)):
        for one in finished[index]:
            if one.command.text not in results:
                results[one.command.text] = one
            elif sessions[index][0] in loops:
                # The loop's output is its files' in order, and its exit code the last one's.
                first = results[one.command.text]
                results[one.command.text] = Ran(one.command, one.command.text, one.returncode, first.stdout + one.stdout,
                                                first.stderr + one.stderr, first.folder, first.seconds + one.seconds)
    return results


def _ran_commands() -> list[str]:
    seen: list[str] = []
    for command in readme_commands():
        if command.text not in NOT_RUN and not command.text.startswith(SERVICES) and command.text not in seen:
            seen.append(command.text)
    return seen


def test_every_fenced_block_has_a_known_language():
    unknown = [(line, language) for language, _, line in fenced_blocks(_readme()) if language not in LANGUAGES]
    assert not unknown, (f"README blocks at {unknown} need a language: sh (commands this test runs), console "
                         f"(`$ command` and its output), python, toml or text (not run)")


def test_every_command_is_run_or_listed_with_a_reason():
    commands = readme_commands()
    texts = {command.text for command in commands}
    assert len(commands) > 20, "the README's commands were not found"
    stale = [text for text in list(NOT_RUN) + list(RUN_AS) + list(EXIT_CODES) if text not in texts]
    assert not stale, f"listed in tests/test_readme.py but no longer in the README: {stale}"
    for command in commands:
        if command.text in NOT_RUN:
            continue
        line = runnable(command, 8786)
        left = [word for word in line.split() if re.fullmatch(r"[A-Z]{2,}|<\w+>|path/to/\S+", word)]
        assert not left, (f"README command {command.text!r} ({command.group}) keeps placeholders {left} when run "
                          f"as {line!r}: map them in tests/test_readme.py, or list the command in NOT_RUN with why")


@pytest.mark.parametrize("text", _ran_commands())
def test_readme_command_exits_as_expected(ran, text):
    one = ran[text]
    expected = EXIT_CODES.get(text, (0, ""))[0]
    assert one.returncode == expected, (
        f"README command {text!r}, run as {one.line!r} in a copy of the sample class, exited {one.returncode}, "
        f"expected {expected}\nstdout: {one.stdout[-3000:]}\nstderr: {one.stderr[-3000:]}")
    # Never a traceback from gradgrade; Dask's own workers may log one of theirs as their cluster stops.
    assert not re.search(r'File "[^"]*/grader/[^"]*", line', one.stderr), one.stderr


def _verdict_lines(output: str) -> list[str]:
    return [line.rstrip() for line in output.splitlines()
            if re.match(r"^(\w+: (PASS|FAIL|ERROR|TIMEOUT|MISSING)\b|verdict: )", line)]


def _parameter_rows(output: str) -> list[list[str]]:
    """The first three columns (parameter, difference, verdict) of each table row."""
    return [line.split()[:3] for line in output.splitlines() if re.match(r"^d[A-Za-z]+\d*\s+\S+\s+(PASS|FAIL)\b", line)]


def test_shown_output_matches_the_real_output(ran):
    shown = [command for command in readme_commands() if command.shown]
    assert shown, "the README shows no command output"
    for command in shown:
        real = ran[command.text].stdout
        assert real.splitlines()[0] == command.shown.splitlines()[0]
        assert _verdict_lines(real) == _verdict_lines(command.shown), real
        assert _parameter_rows(real) == _parameter_rows(command.shown), real
        assert "\n".join(_verdict_lines(command.shown)[-1:]).startswith("verdict: ")


def test_synopses_name_exactly_the_options_of_the_command():
    subcommands = cli.build_parser()._subparsers._group_actions[0].choices
    synopses = [command.text for command in readme_commands() if is_synopsis(command.text)]
    assert {synopsis.split()[1] for synopsis in synopses} >= {"check", "grade", "mutate", "mutation-test"}
    for synopsis in synopses:
        parser = subcommands[synopsis.split()[1]]
        options = {option for action in parser._actions for option in action.option_strings} - {"-h", "--help"}
        assert set(re.findall(r"\[(--[\w-]+)", synopsis)) == options, (
            f"README synopsis {synopsis!r} differs from `gradgrade {synopsis.split()[1]} --help`")


def test_check_option_table_lists_exactly_checks_options():
    text = _readme()
    table = text[text.index("| option | meaning | default |"):]
    table = table[:table.index("\n\n")]
    listed = re.findall(r"^\| `(--[\w-]+)`", table, re.M)
    parser = cli.build_parser()._subparsers._group_actions[0].choices["check"]
    options = {option for action in parser._actions for option in action.option_strings} - {"-h", "--help"}
    assert sorted(listed) == sorted(options)


def test_rubric_block_is_a_rubric_and_its_numbers_are_the_defaults(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text(_rubric_block(_readme()))
    rubric = score.rubric_from_dict(score.load_rubric(path))
    assert rubric.backward_points + rubric.checker_points == 10
    assert rubric.checker_mutants == score.DEFAULT_RUBRIC.checker_mutants


def test_every_toml_block_is_a_rubric_gradgrade_reads(tmp_path):
    blocks = [body for language, body, _ in fenced_blocks(_readme()) if language == "toml"]
    assert blocks
    for index, body in enumerate(blocks):
        path = tmp_path / f"rubric{index}.toml"
        path.write_text(body)
        score.load_rubric(path)


def test_rubric_mutants_is_a_total_scaled_by_the_share_caught():
    # What the README's rubric comment says: `mutants` is a total, times the fraction of bugs caught.
    assert "this total times the fraction of the bugs it catches" in _rubric_block(_readme())
    from grader.results import CheckResult, Status

    caught_half = CheckResult(name="gradient_check_n", status=Status.FAIL, difference=None, threshold=2e-7,
                              message="", details={"probes": 8, "caught": 4, "compared": 2, "agreeing": 2,
                                                   "reference_accepted": True, "crashed": False})
    rubric = score.rubric_from_dict({"checker": {"mutants": 2}})
    assert score.checker_parts(caught_half, rubric)["mutants"] == 1.0


def test_ci_runs_the_readme_test_command():
    (test_command,) = [text for text in NOT_RUN if text.endswith("python -m pytest -q")]
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


def _lists_named(value, name: str) -> list:
    """The items of every list under the key name, anywhere in value."""
    if isinstance(value, dict):
        found = list(value[name]) if isinstance(value.get(name), list) else []
        return found + [item for key, inner in value.items() for item in _lists_named(inner, name)]
    if isinstance(value, list):
        return [item for inner in value for item in _lists_named(inner, name)]
    return []


def test_json_output_has_the_contract_fields(ran):
    result = json.loads(ran["gradgrade check FILE --format json"].stdout)
    text = _readme()
    contract = text[text.index('{"schema": "gradgrade/result/v1"'):]
    contract = contract[:contract.index("```")]
    assert result["schema"] == "gradgrade/result/v1"
    # The fields of a list's items show only where the list has items (a correct submission has no diagnosis).
    unseen = set()
    for name, item in re.findall(r'"(\w+)": \[\{(.*?)\}', contract):
        if not _lists_named(result, name):
            unseen |= set(re.findall(r'"(\w+)":', item))
    missing = set(re.findall(r'"(\w+)":', contract)) - _keys(result) - unseen
    assert not missing, f"the README's result/v1 names fields the JSON does not have: {missing}"


def test_hostile_loop_gives_each_files_expected_message(ran):
    loop = ran['for f in tests/hostile/*.py; do gradgrade check "$f" --timeout 2; done']
    parts = re.split(r"^(\w+) \(three_layer\)$", loop.stdout, flags=re.M)[1:]
    outputs = dict(zip(parts[::2], parts[1::2]))
    files = sorted((ROOT / "tests" / "hostile").glob("*.py"))
    assert sorted(outputs) == sorted(path.stem for path in files)
    wrong = {}
    for path in files:
        expect = re.search(r"^# expect: (\w+): (.*)$", path.read_text(), re.M)
        status, message = expect[1], expect[2]
        if path.stem == "huge_return":
            # The README says so: at --timeout 2 its one call does not finish; its own run follows.
            status, message = "timeout", "ran longer than"
        output = outputs[path.stem]
        verdicts = " ".join(_verdict_lines(output)).lower()
        # The terminal wraps long messages: compare with every run of spaces and line breaks as one space.
        if status not in verdicts or " ".join(message.lower().split()) not in " ".join(output.lower().split()):
            wrong[path.name] = (status, message, output[-600:])
    assert not wrong, wrong
    huge = ran["gradgrade check tests/hostile/huge_return.py --timeout 10"].stdout
    assert "more than the 64 MiB of results" in huge and "verdict: ERROR" in huge


def _python_snippets() -> list[str]:
    return [body for language, body, _ in fenced_blocks(_readme()) if language == "python"]


DRIVER = textwrap.dedent('''
    import ast, sys
    setup, snippet = sys.argv[1], sys.argv[2]
    namespace = {"__name__": "__main__"}
    exec(compile(open(setup).read(), setup, "exec"), namespace)
    # As a notebook shows it: each expression's value is displayed.
    for statement in ast.parse(open(snippet).read()).body:
        exec(compile(ast.Interactive([statement]), snippet, "single"), namespace)
''')


@pytest.mark.parametrize("snippet", _python_snippets(), ids=lambda body: body.splitlines()[0])
def test_python_snippet_runs(snippet, tmp_path):
    first = snippet.splitlines()[0]
    assert first in PYTHON_SETUP, f"README python block starting {first!r}: say in PYTHON_SETUP what it runs after"
    if first == SPEC_FILE:
        from grader import assignments

        (tmp_path / "softmax_l2.py").write_text(snippet)
        found = assignments.ready(str(tmp_path / "softmax_l2.py"))
        assert found.name == "softmax_l2" and found.spec_cases("course") and found.spec_cases("square")
        return
    setup = tmp_path / "cells.py"
    if first == "import grader":
        setup.write_text((ROOT / "submissions" / "correct_course_style.py").read_text())
    else:
        setup.write_text(LARGE_SETUP)
    (tmp_path / "snippet.py").write_text(snippet)
    (tmp_path / "driver.py").write_text(DRIVER)
    finished = subprocess.run([sys.executable, "driver.py", "cells.py", "snippet.py"], cwd=tmp_path,
                              env={**_environment(tmp_path), "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'grader' / 'course'}"},
                              capture_output=True, text=True,
                              timeout=COMMAND_SECONDS)
    assert finished.returncode == 0, finished.stderr
    calls = sum(1 for statement in ast.parse(snippet).body if isinstance(statement, ast.Expr))
    if first == "import grader":
        assert finished.stdout.count("verdict: PASS") == calls, finished.stdout
    else:
        assert finished.stdout.count("(check=GradientCheck(passed=True,") == calls, finished.stdout
