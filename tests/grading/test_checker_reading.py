"""Reading what a student's checker returned: a number, or what it was instead."""
from __future__ import annotations

import numpy as np
import pytest

from grader.grading import checker_reading
from grader.sandbox.wire import Opaque


@pytest.mark.parametrize("value, expected", [
    pytest.param(1.5e-8, 1.5e-8, id="float"),
    pytest.param(np.array([[2e-3]]), 2e-3, id="1x1-array"),
    pytest.param(np.float64(0.25), 0.25, id="numpy-scalar"),
    pytest.param(3, 3.0, id="int"),
    pytest.param(None, None, id="none"),
    pytest.param(np.zeros((2, 2)), None, id="matrix"),
    pytest.param(Opaque("Foo", "Foo()"), None, id="opaque"),
    pytest.param("1e-8", None, id="printed-text-is-not-a-number"),
])
def test_number_reads_what_a_checker_returns(value, expected):
    assert checker_reading.number(value)[0] == expected
