"""The course method's value for each probe is what the reference checker returns."""
from __future__ import annotations

import pytest

from grader import assignments
from grader.grading import checker_probes, checker_variants


def test_the_course_method_is_what_the_reference_checker_returns():
    from grader.reference import three_layer
    probe = next(p for p in checker_probes.probes(assignments.get("three_layer")) if p.kind == "mutant")
    case = three_layer.public_case()
    expected = three_layer.gradient_check_n(case.parameters, dict(probe.gradients), case.X, case.Y, probe.epsilon)
    assert checker_variants.variants(assignments.get("three_layer"), probe)["course"] == pytest.approx(expected, rel=1e-12)


def test_l_layer_course_method_is_the_reference_gradient_checking():
    from grader.reference import l_layer
    for probe in checker_probes.probes(assignments.get("l_layer")):
        case = (l_layer.cases(profile=probe.profile))[probe.case_index]
        expected = l_layer.gradient_checking(*l_layer.checker_args(case, probe.gradients), epsilon=probe.epsilon)
        assert checker_variants.variants(assignments.get("l_layer"), probe)["course"] == pytest.approx(expected, rel=1e-12), probe.name
