"""What each graded function of a spec must give on each case, and the cases themselves, drawn and screened.

Everything here runs the spec's reference code (trusted, in process) once per case when a plan is built,
never per submission.
"""
from __future__ import annotations

import dataclasses
import zlib
from typing import Any, Callable, Mapping

import numpy as np

from grader import spec as api
from grader.assignments import specs
from grader.assignments.specs import REDRAWS, Prepared, SpecError, applies, gradient_names, positional, prepare_inputs, reference
from grader.numerics import check, gradient

STREAMS = {"public": 0, "course": 1, "square": 2}


def rng_for(spec: api.Spec, *parts: str | int) -> np.random.Generator:
    """A generator of its own for each purpose (a profile's cases, a case's upstream gradient): seeded, stable."""
    keys = [part if isinstance(part, int) else zlib.crc32(part.encode()) for part in parts]
    return np.random.default_rng([spec.seed & 0xFFFFFFFF, *keys])


def _scalar_and_analytic(declared: api.Function, module: Any, case: api.Case, spec: api.Spec, *,
                         main: bool = True) -> tuple[Callable[[dict], float], str | tuple[str, ...], Any, Any, np.ndarray | None,
                                    Mapping[str, Any], Mapping[str, Any]]:
    """(scalar of the inputs, the inputs it is differentiated by, the reference's gradients, its value,
    dout, init, attributes) for one function on one case."""
    inputs = gradient.fresh(dict(case.inputs))
    if isinstance(declared, api.Gradients):
        function = reference(module, declared.function)
        args, _ = prepare_inputs(declared, case, module)
        returned = function(*gradient.fresh(args))
        keys = declared.only or tuple(inputs[declared.wrt])
        analytic = {key: _item(returned, declared.gradient.format(key)) for key in keys}
        return (lambda moved: float(declared.cost(**moved))), declared.wrt, analytic, None, None, {}, {}
    if isinstance(declared, api.Loss):
        function = reference(module, declared.function)
        loss, analytic = function(*positional(function, inputs)[0])
        return (lambda moved: float(function(*positional(function, moved)[0])[0])), declared.wrt, analytic, \
            float(loss), None, {}, {}
    if isinstance(declared, api.LayerBackward):
        forward, backward = reference(module, declared.forward), reference(module, declared.function)
        out, cache = forward(*positional(forward, inputs)[0])
        dout = rng_for(spec, "dout", case.profile, case.name, declared.function).standard_normal(np.shape(out))
        analytic = None
        if main:  # a convention's forward has no backward of its own to screen
            returned = backward(dout.copy(), cache)
            returned = returned if isinstance(returned, tuple) else (returned,)
            analytic = dict(zip(declared.wrt, returned))

        def scalar(moved: dict) -> float:
            return float(np.sum(forward(*positional(forward, moved)[0])[0] * dout))
        return scalar, declared.wrt, analytic, np.asarray(out), dout, {}, {}
    if isinstance(declared, api.Method):
        cls = reference(module, declared.cls)
        init = dict(declared.init(gradient.fresh(dict(case.inputs))))

        def run(moved: dict) -> tuple:
            model = cls(**gradient.fresh(init))
            setattr(model, declared.wrt, moved[declared.wrt])
            return getattr(model, declared.method)(*(moved[name] for name in declared.args))
        loss, grads = run(inputs)
        return (lambda moved: float(run(moved)[0])), declared.wrt, dict(grads), float(loss), None, init, \
            {declared.wrt: case.inputs[declared.wrt]}
    function = reference(module, declared.function)
    value = function(*positional(function, inputs)[0])
    if declared.output is not None:
        value = value[declared.output]
    return None, (), None, value, None, {}, {}


def _item(returned: Any, key: str) -> Any:
    return returned.get(key) if isinstance(returned, Mapping) else None


def prepare(declared: api.Function, case: api.Case, module: Any, spec: api.Spec, *,
            epsilon: float = check.EPSILON, screen: bool = True, main: bool = True) -> tuple[Prepared, gradient.Health]:
    """The function's expected results on the case (and its conventions'), and whether the case is healthy."""
    try:
        with np.errstate(all="ignore"):
            scalar, wrt, analytic, value, dout, init, attributes = _scalar_and_analytic(declared, module, case, spec,
                                                                                        main=main)
    except SpecError:
        raise
    except Exception as error:  # the reference failed on its own case: the spec's to fix
        raise SpecError(f"the reference {declared.function} raised {type(error).__name__}: {error} "
                        f"on case {case.name}") from None
    args, arg_names = prepare_inputs(declared, case, module)
    expected: dict[str, np.ndarray] = {}
    health = gradient.Health(True)
    for name in ((wrt,) if isinstance(wrt, str) else wrt):
        with np.errstate(all="ignore"):
            numerical = _numerical(declared, scalar, case, name, epsilon)
            finer = _numerical(declared, scalar, case, name, epsilon / 4) if screen else numerical
            accurate = gradient.richardson(_numerical(declared, scalar, case, name, gradient.COARSE_STEP),
                                           _numerical(declared, scalar, case, name, gradient.COARSE_STEP / 2)) \
                if screen and main else None
        reference_value = analytic.get(name) if isinstance(analytic, Mapping) and not isinstance(
            case.inputs[name], Mapping) else analytic
        if not main:
            reference_value = None
        if screen and health.healthy:
            health = gradient.screen(f"{declared.function}'s {_label(declared, name)}", reference_value,
                                     numerical, finer, accurate)
            if health.reference_wrong and gradient.on_kink(reference_value, *gradient.one_sided_gradients(
                    scalar, case.inputs, name, epsilon=epsilon)):
                # Exactly on a kink both steps straddle it alike and agree on the mean of its sides' slopes,
                # while the reference takes one side: the case's fault, not the reference's (draw another).
                health = gradient.Health(False, f"{declared.function}'s {_label(declared, name)} sits exactly on a "
                                                f"kink: the slopes on its two sides differ")
        if isinstance(numerical, Mapping):
            keys = getattr(declared, "only", None) or tuple(numerical)
            fmt = getattr(declared, "gradient", "{}")
            expected.update({fmt.format(key): numerical[key] for key in keys})
        else:
            expected[f"d{name}"] = numerical
    alternatives = {}
    for name in getattr(declared, "conventions", ()):
        alternative, other = prepare(specs.convention(declared, name), case, module, spec, epsilon=epsilon,
                                     screen=screen, main=False)
        health = health if not health.healthy else other
        alternatives[name] = alternative
    prepared = Prepared(case, tuple(args), tuple(arg_names), value, expected, dout, init, attributes, alternatives)
    return prepared, health


def _label(declared: api.Function, name: str) -> str:
    return f"d{name}" if isinstance(declared, (api.LayerBackward, api.Loss)) else "gradients"


def _numerical(declared: api.Function, scalar: Callable[[dict], float], case: api.Case, name: str,
               epsilon: float) -> Any:
    value = case.inputs[name]
    if isinstance(value, Mapping) and isinstance(declared, api.Gradients):
        batched = gradient.batched_gradient(lambda parameters: declared.cost(**{**case.inputs, name: parameters}),
                                            value, epsilon=epsilon)
        if batched is not None:
            return batched
    return gradient.numerical_gradient(scalar, case.inputs, name, epsilon=epsilon)


def draw(spec: api.Spec, module: Any, profile: str, *, epsilon: float = check.EPSILON
         ) -> tuple[tuple[api.Case, ...], dict[tuple[str, str], Prepared]]:
    """The profile's cases, each screened healthy for every function it grades, with their Prepared.

    profile "course": the public cases, then the hidden ones; "square": the square ones (none when the
    spec has none). An unhealthy generated case is replaced by the generator's next draw at the same
    place; SpecError when none is healthy after REDRAWS draws, or the reference is wrong.
    """
    sources: list[tuple[str, Callable[[np.random.Generator], Any] | None]]
    sources = [("public", spec.public_cases), ("course", spec.hidden_cases)] if profile == "course" \
        else [("square", spec.square_cases)]
    cases: list[api.Case] = []
    prepared: dict[tuple[str, str], Prepared] = {}
    for stream, make in sources:
        if make is None:
            continue
        rng = rng_for(spec, STREAMS[stream])
        drawn = list(_call(make, rng, spec, stream))
        for index in range(len(drawn)):
            case, problem = drawn[index], ""
            for attempt in range(REDRAWS):
                case = dataclasses.replace(case, profile=profile, public=stream == "public" or case.public)
                problem = _screened(spec, module, case, prepared, epsilon)
                if not problem:
                    break
                if stream == "public":
                    raise SpecError(f"public case {case.name}: {problem}; the public case cannot be redrawn")
                again = list(_call(make, rng, spec, stream))
                case = again[index] if index < len(again) else case
            if problem:
                raise SpecError(f"no healthy {stream} case {drawn[index].name} in {REDRAWS} draws: {problem}")
            cases.append(case)
    _distinct(cases, spec)
    return tuple(cases), prepared


def _call(make: Callable[[np.random.Generator], Any], rng: np.random.Generator, spec: api.Spec, stream: str) -> list:
    try:
        drawn = list(make(rng))
    except Exception as error:
        raise SpecError(f"{spec.name}: its {stream} cases raised {type(error).__name__}: {error}") from None
    if not all(isinstance(case, api.Case) for case in drawn):
        raise SpecError(f"{spec.name}: its {stream} cases must be grader.spec.Case records")
    return drawn


def _screened(spec: api.Spec, module: Any, case: api.Case, prepared: dict[tuple[str, str], Prepared],
              epsilon: float) -> str:
    """'' when the case is healthy for every function it grades (their Prepared are then kept), else why not."""
    found = {}
    for declared in spec.functions:
        if not applies(declared, case, module):
            continue
        result, health = prepare(declared, case, module, spec, epsilon=epsilon)
        if health.reference_wrong:
            raise SpecError(f"{health.problem} on case {case.name}: the reference fails its own numerical check")
        if not health.healthy:
            return health.problem
        found[(declared.function, case.name)] = result
    if not found:
        raise SpecError(f"case {case.name} grades no declared function (its inputs fit none)")
    prepared.update(found)
    return ""


def _distinct(cases: list[api.Case], spec: api.Spec) -> None:
    names = [case.name for case in cases]
    if len(set(names)) != len(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        raise SpecError(f"{spec.name}: case names must be distinct within a profile: {', '.join(repeated)}")
