"""The checker's probes: few, distinct, covering every parameter, cheap enough for the loop."""
from __future__ import annotations

import numpy as np

from grader import assignments
from grader.grading import checker_probes


def test_probes_are_few_distinct_and_cover_every_parameter():
    probes = checker_probes.probes(assignments.get("three_layer"))
    mutants = [probe for probe in probes if probe.kind == "mutant"]
    assert len(probes) <= checker_probes.MAX_COURSE_MUTANTS + checker_probes.MAX_SQUARE_MUTANTS + 3
    assert {"scale-double-gradient", "scale-quadruple-m"} <= {probe.operator for probe in mutants}
    covered = {name for probe in mutants if probe.profile == "course" for name in probe.parameters}
    assert covered == {"dW1", "db1", "dW2", "db2", "dW3", "db3"}
    signatures = {np.concatenate([g.ravel() for g in probe.gradients.values()]).round(12).tobytes() for probe in mutants}
    assert len(signatures) == len(mutants)


def test_l_layer_probes_are_few_distinct_and_keep_the_loop_cheap():
    probes = checker_probes.probes(assignments.get("l_layer"))
    assert len(probes) <= 10
    mutants = [probe for probe in probes if probe.kind == "mutant"]
    assert len({probe.family for probe in mutants}) >= 4
    assert any(len(probe.parameters) < 6 for probe in mutants)
    assert any("dW1" not in probe.parameters for probe in mutants)  # else a first-entries checker catches all
    signatures = {np.concatenate([g.ravel() for g in probe.gradients.values()]).round(12).tobytes() for probe in mutants}
    assert len(signatures) == len(mutants)
    # The public case is the course's (seed 10, 5-6-3-1); the square probe is a deeper network.
    assert {probe.case_index for probe in probes if probe.profile == "course"} == {0}
    square = next(probe for probe in probes if probe.profile == "square")
    assert set(square.gradients) == {f"d{kind}{layer}" for layer in range(1, 5) for kind in "Wb"}
