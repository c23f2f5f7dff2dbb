"""Benchmark: exact and fast gradient checks of the course's cat-classifier sizes, against the notebook's loop.

Prints one JSON line. Seeded synthetic data of the cat sizes ([12288, 20, 7, 5, 1], 209 examples):
pixel-like inputs in [0, 1], random labels, the course's 1/sqrt(fan-in) initialisation.
The loop is the notebook's method (reference.l_layer's course-style forward and cost_func, one
parameter at a time) timed on a sample of parameters and extrapolated to all of them.

    python bench/bench_large.py [--sample 300] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from grader.numerics import check, large
from grader.reference import l_layer

CAT_SIZES = (12288, 20, 7, 5, 1)
CAT_EXAMPLES = 209


def cat_like(seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Parameters, X and Y of the cat classifier's sizes."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, size=(CAT_SIZES[0], CAT_EXAMPLES)) / 255.0
    Y = rng.integers(0, 2, size=(1, CAT_EXAMPLES))
    parameters = {}
    for name, shape in l_layer.parameter_shapes(CAT_SIZES).items():
        parameters[name] = rng.standard_normal(shape) / np.sqrt(shape[1]) if name[0] == "W" else np.zeros(shape)
    return parameters, X, Y


def loop_seconds_per_parameter(parameters, X, Y, *, sample: int, epsilon: float, seed: int = 1
                               ) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Seconds (wall clock, CPU) the notebook's loop spends on one parameter, timed on `sample` random
    parameters; also which parameters (indices into params_to_vector) and the gradapprox it found."""
    theta, _ = l_layer.params_to_vector(parameters)
    chosen = np.random.default_rng(seed).choice(theta.shape[0], size=sample, replace=False)
    gradapprox = np.empty(sample)
    start, cpu = time.perf_counter(), time.process_time()
    for k, i in enumerate(chosen):
        thetaplus = np.copy(theta)
        thetaplus[i, 0] += epsilon
        AL, _ = l_layer.L_layer_forward(X, l_layer.vector_to_params(thetaplus, parameters))
        J_plus = l_layer.cost_func(AL, Y)
        thetaminus = np.copy(theta)
        thetaminus[i, 0] -= epsilon
        AL, _ = l_layer.L_layer_forward(X, l_layer.vector_to_params(thetaminus, parameters))
        J_minus = l_layer.cost_func(AL, Y)
        gradapprox[k] = (J_plus - J_minus) / (2 * epsilon)
    return (time.perf_counter() - start) / sample, (time.process_time() - cpu) / sample, chosen, gradapprox


def lean_loop_seconds_per_parameter(parameters, X, Y, *, sample: int, epsilon: float, seed: int = 1) -> float:
    """The same for a leaner loop: only the perturbed block copied, the stable batched cost run once per side."""
    names = list(parameters)
    sizes = np.array([parameters[name].size for name in names])
    chosen = np.random.default_rng(seed).choice(int(sizes.sum()), size=sample, replace=False)
    start = time.perf_counter()
    for i in chosen:
        block = int(np.searchsorted(np.cumsum(sizes), i, side="right"))
        name, offset = names[block], i - int(sizes[:block].sum())
        costs = []
        for sign in (1, -1):
            value = parameters[name].copy()
            value.flat[offset] += sign * epsilon
            costs.append(float(l_layer.cost(X, Y, {**parameters, name: value})))
        (costs[0] - costs[1]) / (2 * epsilon)
    return (time.perf_counter() - start) / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=300, help="parameters the loop is timed on")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each check; the fastest counts")
    args = parser.parse_args()
    parameters, X, Y = cat_like()
    count = sum(value.size for value in parameters.values())
    AL, caches = l_layer.L_layer_forward(X, parameters)
    gradients = {name: value for name, value in l_layer.L_layer_backward(AL, Y, caches).items() if name[1] in "Wb"}

    exact_times, fast_times, exact_cpu, fast_cpu = [], [], [], []
    for _ in range(args.repeats):
        start, cpu = time.perf_counter(), time.process_time()
        exact = large.exact_check(parameters, gradients, X, Y)
        exact_times.append(time.perf_counter() - start)
        exact_cpu.append(time.process_time() - cpu)
        start, cpu = time.perf_counter(), time.process_time()
        fast = large.fast_check(parameters, gradients, X, Y)
        fast_times.append(time.perf_counter() - start)
        fast_cpu.append(time.process_time() - cpu)
    # A wrong gradient must be caught by both, so the timings are of checks that work.
    wrong = dict(gradients, db2=2 * gradients["db2"])
    caught = (not large.exact_check(parameters, wrong, X, Y).passed, not large.fast_check(parameters, wrong, X, Y).passed)

    per_parameter, per_parameter_cpu, chosen, looped = loop_seconds_per_parameter(
        parameters, X, Y, sample=args.sample, epsilon=check.EPSILON)
    # The exact check's central differences are the loop's: compare them on the sampled parameters.
    numerical = large.central_differences(parameters, X, Y)
    structured = np.concatenate([numerical.gradapprox[name].ravel() for name in l_layer.layer_names(len(CAT_SIZES) - 1)])
    loop_gap = float(np.max(np.abs(structured[chosen] - looped)))
    loop_s = per_parameter * count
    lean_s = lean_loop_seconds_per_parameter(parameters, X, Y, sample=args.sample, epsilon=check.EPSILON) * count
    exact_s = min(exact_times)
    print(json.dumps({
        "bench": "check_cat", "exact_s": round(exact_s, 3), "loop_s_extrapolated": round(loop_s, 1),
        "ratio_vs_loop": round(loop_s / exact_s, 1), "fast_ms": round(1000 * min(fast_times), 1),
        "lean_loop_s_extrapolated": round(lean_s, 1), "ratio_vs_lean_loop": round(lean_s / exact_s, 1),
        "parameters": count, "examples": CAT_EXAMPLES, "sizes": list(CAT_SIZES),
        # CPU seconds (all threads) tell the same story on a machine shared with other work.
        "exact_cpu_s": round(min(exact_cpu), 3), "fast_cpu_ms": round(1000 * min(fast_cpu), 1),
        "loop_cpu_s_extrapolated": round(per_parameter_cpu * count, 1),
        "ratio_vs_loop_cpu": round(per_parameter_cpu * count / min(exact_cpu), 1),
        "loop_sample": args.sample, "repeats": args.repeats,
        "exact_difference": exact.check.difference, "exact_passed": exact.passed, "fast_passed": fast.passed,
        "kinks": len(exact.kinks), "max_abs_gap_vs_loop": loop_gap,
        "max_abs_gradapprox_sampled": float(np.max(np.abs(looped))), "wrong_db2_caught": {"exact": caught[0], "fast": caught[1]},
    }))


if __name__ == "__main__":
    main()
