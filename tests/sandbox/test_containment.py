"""Containment: what a child forgets of the grader before student code runs."""
from __future__ import annotations

import subprocess
import sys


def test_scrub_modules_scans_again_only_after_an_import():
    # In a fresh interpreter: a scrub forgets gradgrade's modules and replaces __main__ for good.
    script = ("import sys\n"
              "from grader.sandbox import containment\n"
              "containment.scrub_modules()\n"
              "main = sys.modules['__main__']\n"
              "assert not [name for name in sys.modules if name.split('.')[0] == 'grader']\n"
              "containment.scrub_modules()\n"
              "assert sys.modules['__main__'] is main, 'nothing was imported: no second scan'\n"
              "sys.modules['grader.grading.late'] = type(sys)('grader.grading.late')\n"
              "containment.scrub_modules()\n"
              "assert 'grader.grading.late' not in sys.modules\n"
              "assert sys.modules['__main__'] is not main\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
