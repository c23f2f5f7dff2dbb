"""Result records: validation, and the JSON round trip the gradebook and workers rely on."""
import json
import math

import pytest

from grader.results import (Capped, CaseResult, CheckResult, Diagnosis, ParameterResult, Status, SubmissionResult,
                            submission_from_json)


def sample_result() -> SubmissionResult:
    check = CheckResult(
        "backward_propagation_n", Status.FAIL, 0.25, 1e-7, "wrong dW2",
        parameters=(ParameterResult("dW2", Status.FAIL, 0.33, "twice"), ParameterResult("db1", Status.PASS, 1e-10, "ok")),
        diagnosis=(Diagnosis("scale-double-1", "scale-double", "dW2 is twice the true gradient", ("dW2",), 12),),
        cases=(CaseResult("course", Status.FAIL, 0.25, "dW2"),), points=3.0, max_points=6.0, details={"k": [1]})
    return SubmissionResult("alice", "three_layer", Status.FAIL, 3.0, 6.0, (check,), "wrong", ("w",), "printed",
                            (Capped("the submission's captured stdout", 65536, 1_000_000, "bytes"),))


def test_json_round_trip_is_lossless():
    result = sample_result()
    data = json.loads(json.dumps(result.to_json()))
    assert submission_from_json(data) == result
    assert submission_from_json(data).to_json() == result.to_json()


def test_a_result_of_before_capped_existed_reads_as_nothing_capped():
    data = sample_result().to_json()
    del data["capped"]
    assert submission_from_json(data).capped == ()


def test_capped_says_what_was_cut_and_how_much_of_how_much_was_kept():
    capped = Capped("the submission's captured stdout", 65536, 1_000_000, "bytes")
    assert capped.sentence() == "the submission's captured stdout was cut: 65,536 of its 1,000,000 bytes are shown"
    assert capped.to_json() == {"what": "the submission's captured stdout", "kept": 65536, "size": 1_000_000,
                                "unit": "bytes"}


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_differences_become_null(value):
    parameter = ParameterResult("dW1", Status.FAIL, value, "bad")
    assert parameter.difference is None
    json.dumps(parameter.to_json(), allow_nan=False)


def test_invalid_records_are_refused():
    with pytest.raises(ValueError):
        ParameterResult("dW1", Status.TIMEOUT, None, "")
    with pytest.raises(ValueError):
        SubmissionResult("a", "three_layer", Status.MISSING, 0, 6)
    with pytest.raises(ValueError):
        CheckResult("f", Status.PASS, 0.0, 1e-7, "", points=7.0, max_points=6.0)


def test_status_values_are_the_contract_strings():
    assert [s.value for s in Status] == ["pass", "fail", "error", "timeout", "missing"]
    assert not math.isnan(sample_result().checks[0].difference)
