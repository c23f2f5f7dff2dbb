"""Spec files: loading, checking, and the one-line reasons a spec cannot be used (grader/assignments/specs.py)."""
import textwrap

import pytest

from grader import spec as api
from grader.assignments import specs
from grader.assignments.specs import SpecError

HEADER = "import numpy as np\nfrom grader.spec import Case, Loss, LayerBackward, Method, Spec, Value\n"
SQUARE = '''
def square(x):
    return float(np.sum(x ** 2)), 2 * x
'''


def _write(tmp_path, body, name="spec_file.py"):
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def test_a_spec_file_gives_its_spec_and_module(tmp_path):
    path = _write(tmp_path, SQUARE + '''
SPEC = Spec(name="sq", title="Squares", functions=[Loss("square", wrt="x")],
            public_cases=lambda rng: [Case("one", {"x": rng.standard_normal(3)})])
''')
    found, module = specs.load_file(path)
    assert found.name == "sq" and found.functions[0].function == "square"
    assert specs.reference(module, "square") is module.square


@pytest.mark.parametrize("body, message", [
    pytest.param(SQUARE, "no SPEC = grader.spec.Spec(...)", id="no SPEC"),
    pytest.param(SQUARE + 'SPEC = Spec(name="s", title="t", functions=[Loss("cube", wrt="x")], public_cases=lambda rng: [])',
                 "cube is declared but the spec file defines no reference cube", id="declared, not in the reference"),
    pytest.param(SQUARE + 'SPEC = Spec(name="s", title="t", functions=[], public_cases=lambda rng: [])',
                 "declares no functions", id="no functions"),
    pytest.param(SQUARE + 'SPEC = Spec(name="s", title="t", functions=[Loss("square", wrt="x")] * 2, '
                          'public_cases=lambda rng: [])', "square is declared twice", id="twice"),
    pytest.param(SQUARE + 'SPEC = Spec(name="s", title="t", functions=[Loss("square", wrt="x")], '
                          'public_cases=lambda rng: [], helpers={"gc_utils": "mine.py"})',
                 "helper module 'gc_utils' takes the name of a course shim", id="a helper named like a shim"),
    pytest.param(SQUARE + 'SPEC = Spec(name="s", title="t", functions=[Loss("square", wrt="x")], '
                          'public_cases=lambda rng: [], version=2)', "spec version 2", id="a later version"),
    pytest.param(SQUARE + 'SPEC = Spec(name="s", title="t", functions=[Loss("square", wrt="x", '
                          'conventions=("half",))], public_cases=lambda rng: [])',
                 "half is declared but the spec file defines no reference half", id="a convention not defined"),
    pytest.param("raise RuntimeError('half-written spec')\n", "cannot load the spec: RuntimeError: half-written spec",
                 id="raises on import"),
])
def test_a_spec_that_cannot_be_used_says_why_in_one_line(tmp_path, body, message):
    with pytest.raises(SpecError) as raised:
        specs.load_file(_write(tmp_path, body))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_helper_module_file_must_be_beside_the_spec(tmp_path):
    body = SQUARE + ('SPEC = Spec(name="s", title="t", functions=[Loss("square", wrt="x")], '
                     'public_cases=lambda rng: [], helpers={"sq_utils": "sq_utils.py"})')
    with pytest.raises(SpecError, match="helper module 'sq_utils': there is no file sq_utils.py beside the spec"):
        specs.load_file(_write(tmp_path, body))
    (tmp_path / "sq_utils.py").write_text("def half(x):\n    return x / 2\n")
    found, module = specs.load_file(_write(tmp_path, body))
    assert specs.helper_sources(found, module) == {"sq_utils": "def half(x):\n    return x / 2\n"}


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(SpecError, match="no such spec file"):
        specs.load_file(tmp_path / "absent.py")


def test_positional_takes_the_reference_signature_order_and_stops_at_an_absent_default():
    def forward(x, w, b, param=None, extra=1):
        return x

    args, names = specs.positional(forward, {"b": 3, "x": 1, "w": 2, "extra": 5})
    assert (args, names) == ((1, 2, 3), ("x", "w", "b"))
    with pytest.raises(SpecError, match="no input 'w'"):
        specs.positional(forward, {"x": 1, "b": 3})


def test_a_case_naming_its_functions_grades_only_those():
    module = type("M", (), {"square": staticmethod(lambda x: (0.0, x))})
    loss = api.Loss("square", wrt="x")
    assert specs.applies(loss, api.Case("c", {"x": 1.0}), module)
    assert not specs.applies(loss, api.Case("c", {"x": 1.0}, functions=("other",)), module)
    assert not specs.applies(loss, api.Case("c", {"y": 1.0}), module)


def test_gradient_names_follow_each_kind():
    case = api.Case("c", {"parameters": {"W1": 0, "b1": 0}, "params": {"W": 0}})
    assert specs.gradient_names(api.Gradients("f", cost=len), case) == ("dW1", "db1")
    assert specs.gradient_names(api.LayerBackward("g", forward="f", wrt=("x", "w")), case) == ("dx", "dw")
    assert specs.gradient_names(api.Loss("h", wrt="W"), case) == ("loss", "dW")
    assert specs.gradient_names(api.Method("Net"), case) == ("loss", "W")
    assert specs.gradient_names(api.Value("v"), case) == ("value",)


GRADIENTS = '''
from grader.spec import Gradients


def cost(X, parameters):
    return np.sum((parameters["W"] @ X) ** 2, axis=(-2, -1))


def backward(X, parameters):
    return {"dW": 2 * (parameters["W"] @ X) @ X.T}


def forward(X, parameters):
    return parameters["W"] @ X, (X, parameters["W"])
'''


@pytest.mark.parametrize("declaration, message", [
    pytest.param('Gradients("backward", cost=cost, forward="forward")', "backward: forward and chain go together",
                 id="forward without chain"),
    pytest.param('Gradients("backward", cost=cost, forward="forward", chain=lambda inputs, output: (inputs["X"], output(1)))',
                 "backward: forward is honoured only for an assignment whose reference module gives its cases itself",
                 id="chain in a drawn spec"),
    pytest.param('Gradients("backward", cost=cost, relu_sigmoid=True)',
                 "backward: relu_sigmoid is honoured only for an assignment whose reference module gives its cases",
                 id="relu_sigmoid in a drawn spec"),
])
def test_a_gradients_field_the_drawn_path_would_ignore_is_refused_in_one_line(tmp_path, declaration, message):
    path = _write(tmp_path, GRADIENTS + f'''
SPEC = Spec(name="g", title="t", functions=[{declaration}],
            public_cases=lambda rng: [Case("c", {{"X": rng.standard_normal((3, 4)),
                                                   "parameters": {{"W": rng.standard_normal((2, 3))}}}})])
''')
    with pytest.raises(SpecError) as raised:
        specs.load_file(path)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_module_that_gives_its_cases_may_chain_its_forward_into_its_backward(tmp_path):
    path = _write(tmp_path, GRADIENTS + '''
def cases(*, profile="course"):
    return []


SPEC = Spec(name="g", title="t", functions=[Gradients("backward", cost=cost, forward="forward",
                                                      chain=lambda inputs, output: (inputs["X"], output(1)))],
            public_cases=lambda rng: [])
''')
    found, module = specs.load_file(path)
    assert found.functions[0].forward == "forward" and specs.gives_cases(module)
