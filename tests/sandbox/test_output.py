"""What a child sends back, put in words: the reason it stopped."""
import pytest

from grader.sandbox import output


@pytest.mark.parametrize("returncode, words", [
    pytest.param(-11, "SIGSEGV (a segmentation fault)", id="segv"),
    pytest.param(-9, "SIGKILL", id="kill"),
    pytest.param(3, "exited with code 3", id="exit-3"),
    pytest.param(None, "without saying why", id="unknown"),
])
def test_exit_reasons_are_named(returncode, words):
    assert words in output.exit_reason(returncode)
