"""The installed distribution: only `grader` at the top, so nothing in the working folder shadows it."""
import subprocess
import sys
from pathlib import Path

SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions"


def test_a_reference_py_and_a_mutants_folder_in_the_working_folder_change_nothing(tmp_path):
    (tmp_path / "reference.py").write_text("raise SystemExit('the student reference.py was imported')\n")
    (tmp_path / "mutants").mkdir()
    (tmp_path / "mutants" / "__init__.py").write_text("raise SystemExit('the student mutants/ was imported')\n")
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "__init__.py").write_text("raise SystemExit('the student reference/ was imported')\n")
    completed = subprocess.run([sys.executable, "-m", "grader", "check", str(SUBMISSIONS / "correct_course_style.py"),
                                "--format", "json"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert '"status": "pass"' in completed.stdout
    code = ("import grader.assignments as a, grader.reference.three_layer as t\n"
            "print(a.get('three_layer').module.__file__)")
    completed = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert not completed.stdout.strip().startswith(str(tmp_path))
