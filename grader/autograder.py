"""Build a Gradescope autograder zip: setup.sh, run_autograder, the rubric and gradgrade itself as a wheel."""
from __future__ import annotations

import importlib.util
import io
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader import assignments
from grader.assignments import Assignment
from grader.grading import conventions, score
from grader.report import html
from grader.report.atomic import write_atomic
from grader.settings import Settings

# What a gradgrade wheel is built from (pyproject.toml's packages and the README it names).
SOURCE_PARTS = ("pyproject.toml", "README.md", "grader", "reference", "mutants")
RUBRIC_NAME = "rubric.toml"
# A spec file's folder in the zip (with the helper modules it names), found there by run_autograder.
SPEC_FOLDER = "spec"
EXECUTABLE = 0o755
PLAIN = 0o644
# Seconds pip may take to build the wheel from the source tree (no dependency is fetched for it).
BUILD_TIMEOUT = 300


class AutograderError(Exception):
    """The autograder zip cannot be built; the message is one line for the instructor."""


@dataclass(frozen=True)
class Autograder:
    """What went into a built zip, for the command's summary line."""

    path: Path
    assignment: str
    wheel: str
    rubric: bool
    files: tuple[str, ...]


def source_tree() -> Path | None:
    """The checkout this gradgrade runs from (pip install -e), or None when it is installed without one."""
    root = Path(__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and 'name = "gradgrade"' in pyproject.read_text(encoding="utf-8", errors="replace"):
        return root
    return None


def build_wheel(folder: Path) -> Path:
    """gradgrade's wheel, built with pip from a copy of the source tree (so the checkout gets no build/ folder).

    No dependency is fetched: setuptools is used from this environment when it has it (pip's build
    isolation would take it from the index otherwise)."""
    root = source_tree()
    if root is None:
        raise AutograderError(f"gradgrade builds its wheel from its source tree, and this one is installed "
                              f"without it ({Path(__file__).resolve().parent}); run it from a checkout "
                              "(pip install -e .) or give a wheel with --wheel FILE")
    copy = folder / "source"
    for part in SOURCE_PARTS:
        origin = root / part
        if origin.is_dir():
            shutil.copytree(origin, copy / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif origin.is_file():
            copy.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, copy / part)
    wheels = folder / "wheels"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(wheels), str(copy)]
    attempts = [command]
    if importlib.util.find_spec("setuptools") is not None:
        # This environment's setuptools first (no index needed); pip's isolated build when it cannot
        # (an old setuptools without the wheel package has no bdist_wheel).
        attempts.insert(0, command[:4] + ["--no-build-isolation"] + command[4:])
    for attempt in attempts:
        try:
            completed = subprocess.run(attempt, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AutograderError(f"building gradgrade's wheel took over {BUILD_TIMEOUT} s") from None
        built = sorted(wheels.glob("gradgrade-*.whl"))
        if completed.returncode == 0 and built:
            break
    else:
        lines = [line.strip() for line in completed.stderr.splitlines() if line.strip() and "hint:" not in line]
        raise AutograderError(f"pip could not build gradgrade's wheel from {root}: {(lines or ['no wheel was written'])[-1]}")
    return built[0]


def _options(settings: Settings, *, spec: str | None = None) -> str:
    """The grading options of run_autograder's command: the assignment (a spec file's place in the unpacked
    zip), and each setting not at its default."""
    options = [] if spec else ["--assignment", settings.assignment]
    defaults = Settings()
    for flag, name in (("--threshold", "threshold"), ("--epsilon", "epsilon"), ("--timeout", "timeout"),
                       ("--total-timeout", "total_timeout")):
        if getattr(settings, name) != getattr(defaults, name):
            options += [flag, repr(float(getattr(settings, name)))]
    options += ["--run-all"] * settings.run_all + ["--fast"] * settings.fast
    # "$root" is the script's variable: left for the shell to expand, the file name quoted around it.
    where = f'--assignment "$root/source/{SPEC_FOLDER}/"{shlex.quote(spec)} ' if spec else ""
    return where + shlex.join(options)


def spec_files(settings: Settings, assignment: Assignment) -> dict[str, Path]:
    """The files of a spec given by its path (the spec and the helper modules beside it it names), by their
    name in the zip; none for an installed assignment (the wheel or the course's package carries it)."""
    if not assignment.graded_by_spec or not assignments.is_path(settings.assignment):
        return {}
    spec = Path(settings.assignment)
    files = {f"{SPEC_FOLDER}/{spec.name}": spec}
    for helper in assignment.spec.helpers.values():
        found = spec.parent / helper
        if not found.is_file():
            raise AutograderError(f"{spec}: helper {helper} is not a file beside the spec")
        files[f"{SPEC_FOLDER}/{Path(helper).as_posix()}"] = found
    return files


def _entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.create_system = 3  # Unix: unzip restores the permissions below (run_autograder must be executable)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def build(out: Path, settings: Settings, *, assignment: Assignment, rubric_path: Path | None = None,
          wheel: Path | None = None) -> Autograder:
    """Write the autograder zip to out: Gradescope's setup.sh and run_autograder at its root, the rubric
    (when there is one) and gradgrade's wheel (the one given, or built from this checkout)."""
    out = Path(out)
    if out.is_dir():
        raise AutograderError(f"{out} is a folder; give the zip's file name (--out autograder.zip)")
    rubric_text = None
    if rubric_path is not None:
        # a mistake is found here, not by the first student's submission
        conventions.check_rubric(assignment.functions, score.load_rubric(rubric_path))
        rubric_text = Path(rubric_path).read_bytes()
    with tempfile.TemporaryDirectory(prefix="gradgrade-autograder-") as folder:
        if wheel is None:
            wheel = build_wheel(Path(folder))
        elif not Path(wheel).is_file() or not Path(wheel).name.startswith("gradgrade-") or Path(wheel).suffix != ".whl":
            raise AutograderError(f"{wheel} is not a gradgrade wheel (gradgrade-VERSION-...whl)")
        wheel = Path(wheel)
        environment = html.environment()
        # Jinja drops a template's last newline; a script ends with one.
        setup = environment.get_template("gradescope_setup.sh.j2").render(
            wheel=wheel.name, version=_version(wheel)) + "\n"
        rubric_option = f'--rubric "$root/source/{RUBRIC_NAME}" ' if rubric_text is not None else ""
        carried = spec_files(settings, assignment)
        spec = next(iter(carried), None)
        run = environment.get_template("gradescope_run_autograder.j2").render(
            assignment=assignment.name, rubric_option=rubric_option,
            options=_options(settings, spec=spec and Path(spec).name)) + "\n"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(_entry("setup.sh", EXECUTABLE), setup)
            archive.writestr(_entry("run_autograder", EXECUTABLE), run)
            if rubric_text is not None:
                archive.writestr(_entry(RUBRIC_NAME, PLAIN), rubric_text)
            archive.writestr(_entry(wheel.name, PLAIN), wheel.read_bytes())
            for name, path in carried.items():
                archive.writestr(_entry(name, PLAIN), path.read_bytes())
            files = tuple(archive.namelist())
    try:
        write_atomic(out, buffer.getvalue())
    except OSError as error:
        raise AutograderError(f"cannot write {out}: {error.strerror or error}") from None
    return Autograder(out, assignment.name, wheel.name, rubric_text is not None, files)


def _version(wheel: Path) -> str:
    parts = wheel.name.split("-")
    return parts[1] if len(parts) > 2 else "?"
