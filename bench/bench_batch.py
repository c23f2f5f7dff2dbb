"""Grade the sample class replicated to N submissions with every report; print one JSON line per executor.

    python bench/bench_batch.py [--count 1000] [--jobs N] [--profile]
    python bench/bench_batch.py --assignment SPEC.py [--submission FILE] [--count 500] [--jobs N]

Counts every stage of a real `gradgrade grade`: discovery, hashing, the gradebook, grading in the pool
(sandbox, numerical checks, diagnosis) and the reports (results.json, grades.csv, a page per student,
the class page). --profile adds where a single worker's time goes, measured in this process. On Linux
the line also has cpu_ms_per_submission: CPU per submission in this process, the pool's workers, the fork
servers and the sandboxed children (50 submissions/s on 2 cores needs a total under 40 ms), and
student_code_ms_per_submission: the CPU of the students' own functions alone, run unsandboxed in this
process (student_code_only_per_second: what the cores could grade if nothing else ran), and
cpu_ms_beyond_student_code: the difference, what gradgrade itself costs per submission.
host_cpu_stolen_percent is the share of the cores' time, while grading, that a virtual machine's
hypervisor gave to other machines (steal): the rate is only a measure of gradgrade when it is near 0.
first_result_seconds is how long the pool took to start and grade its first submission, and
steady_submissions_per_second the pace between the 10th and the 90th percentile of results.
python names the interpreter (see interpreter()): compare rates only between runs of one.

With --assignment SPEC.py: --count copies of one correct submission of the spec (--submission, by default
the first correct_* file of the spec's sample class, SPEC_class/ beside it) and --count copies of a correct
three_layer submission are graded by the same pool size in the same run, alternating --rounds times (the
best round of each counts); the line has both rates and spec_to_three_layer_ratio, and plan_seconds: what
a fresh process spends resolving the spec and building its plan (screened cases, expected values, calls).
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import assignments  # noqa: E402
from grader.batch import batch, discover, executors, reports  # noqa: E402
from grader.grading import pipeline  # noqa: E402
from grader.settings import Settings  # noqa: E402

SUBMISSIONS = ROOT / "submissions"


def unique_copy(data: bytes, suffix: str, index: int) -> bytes:
    """The sample's bytes made distinct per copy, so no cache keyed on content can skip the grading."""
    if suffix == ".ipynb":
        notebook = json.loads(data)
        notebook.setdefault("metadata", {})["bench_copy"] = index
        return json.dumps(notebook).encode()
    return data + f"\n# copy {index}\n".encode()


def replicate(folder: Path, count: int) -> Path:
    """count distinct submissions made from the sample class's top-level files, cycling through them."""
    samples = [s for s in discover.discover(SUBMISSIONS, assignment=assignments.get("three_layer"))]
    folder.mkdir(parents=True)
    for index in range(count):
        sample = samples[index % len(samples)]
        suffix = Path(sample.filename).suffix
        data = unique_copy(sample.read(), suffix, index)
        (folder / f"s{index:05d}_{Path(sample.filename).stem}{suffix}").write_bytes(data)
    return folder


class Clock:
    """A batch progress that keeps when each result came, to tell the pool's start from its steady pace."""

    def __init__(self, started: float) -> None:
        self.started, self.times = started, []

    def start(self, total: int) -> None:
        pass

    def advance(self, result: dict) -> None:
        self.times.append(time.perf_counter())

    def close(self) -> None:
        pass

    def first_result_seconds(self) -> float | None:
        return round(self.times[0] - self.started, 2) if self.times else None

    def steady_per_second(self) -> float | None:
        """Results per second between the 10th and the 90th percentile of results: the pace once the pool
        runs, without its start (workers, fork servers, the catalogue) or the last results' tail."""
        low, high = len(self.times) // 10, len(self.times) * 9 // 10
        if high - low < 10 or self.times[high] <= self.times[low]:
            return None
        return round((high - low) / (self.times[high] - self.times[low]), 1)


def stage_profile(folder: Path, settings: Settings, samples: int = 20) -> dict[str, float]:
    """Milliseconds per submission of each stage, graded one by one in this process (warm caches)."""
    from grader.report import html
    from grader.load import program as load
    from grader.sandbox import run as sandbox

    files = sorted(folder.iterdir())[:samples]
    pipeline.grade_file(files[0], settings, assignment=assignments.get(settings.assignment))  # warm the assignment's cases and expected gradients
    from grader.sandbox import wire

    totals = {"load": 0.0, "sandbox": 0.0, "wire_encode": 0.0, "wire_decode": 0.0, "grade_total": 0.0,
              "student_page": 0.0}
    originals = {"run": sandbox.run, "encode": wire.encode, "decode": wire.decode}

    def timed(function, name):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[name] += time.perf_counter() - started
        return wrapper

    sandbox.run = pipeline.sandbox.run = timed(originals["run"], "sandbox")
    wire.encode = timed(originals["encode"], "wire_encode")
    wire.decode = timed(originals["decode"], "wire_decode")
    try:
        for path in files:
            started = time.perf_counter()
            load.load(path)
            totals["load"] += time.perf_counter() - started
            started = time.perf_counter()
            result = pipeline.grade_file(path, settings, assignment=assignments.get(settings.assignment))
            totals["grade_total"] += time.perf_counter() - started
            started = time.perf_counter()
            html.student_page(result)
            totals["student_page"] += time.perf_counter() - started
    finally:
        sandbox.run = pipeline.sandbox.run = originals["run"]
        wire.encode, wire.decode = originals["encode"], originals["decode"]
    profile = {f"{name}_ms": round(1000 * value / len(files), 2) for name, value in totals.items()}
    profile["checks_and_diagnosis_ms"] = round(profile["grade_total_ms"] - profile["sandbox_ms"] - profile["load_ms"], 2)
    profile["child_ms"] = round(profile["sandbox_ms"] - profile["wire_encode_ms"] - profile["wire_decode_ms"], 2)
    profile.update(sandbox_split(files, settings))
    return profile


def sandbox_split(files: list[Path], settings: Settings) -> dict[str, float]:
    """Milliseconds of one sandbox run with no calls, and the extra of each grader's calls alone."""
    from grader import assignments
    from grader.load import program as load
    from grader.sandbox import run as sandbox

    assignment = assignments.get(settings.assignment)
    program = load.load(files[0])
    plans = {grader.KIND: grader.calls(assignment, settings) for grader in pipeline.GRADERS
             if grader.function_name(assignment)}
    inject = {name: helper for grader in pipeline.GRADERS if hasattr(grader, "inject")
              for name, helper in grader.inject(assignment, settings).items()}

    def timed(calls) -> float:
        started = time.perf_counter()
        for _ in range(5):
            sandbox.run(program.source, calls, filename=program.filename, inject=inject)
        return 1000 * (time.perf_counter() - started) / 5

    empty = timed([])
    split = {"sandbox_no_calls_ms": round(empty, 2)}
    for kind, calls in plans.items():
        split[f"sandbox_{kind}_calls_extra_ms"] = round(timed(calls) - empty, 2)
        split[f"sandbox_{kind}_calls"] = len(calls)
    return split


def student_code_ms(files: list[Path], settings: Settings, rounds: int = 3) -> float:
    """CPU milliseconds per submission of the students' own functions alone: every call the pipeline makes,
    run in this process with no sandbox, no loading and no judging (best of rounds, averaged over files);
    a checker's forward passes reused from probe to probe as the child reuses them (grader.reuse).

    The floor under any grader that runs the same calls: 2 cores grade at most 2000 / this submissions a
    second. Runs the repository's own sample submissions only, which is why it may run them unsandboxed.
    """
    import builtins
    import contextlib
    import copy
    import io

    from grader.sandbox import calls, child, guard, reuse
    from grader.load import program as load

    _, calls_by_grader, inject = pipeline.plan(assignments.get(settings.assignment), settings)
    calls = [call for calls in calls_by_grader for call in calls]
    sys.path.insert(0, guard.HELPERS)
    try:
        best = []
        for path in files:
            spent = []
            for _ in range(rounds):
                for name, module in list(sys.modules.items()):  # each round's helpers fresh, as in a child
                    if os.path.dirname(getattr(module, "__file__", None) or "") == guard.HELPERS:
                        del sys.modules[name]
                namespace = {"__name__": "submission", "__builtins__": builtins}
                injected = child.inject_helpers(namespace, inject)
                seconds, returned, reused = 0.0, {}, {}
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    exec(compile(load.load(path).source, path.name, "exec"), namespace)
                    for index, call in enumerate(calls):
                        function = namespace.get(call.function)
                        if not callable(function) or calls.waits_in_vain(call.only_if_below, index, returned) \
                                or (call.own_only and injected.get(call.function) is function):
                            continue
                        saved = calls.bind_sources(namespace, dict(call.bind))
                        reusing = reuse.reuse(namespace, call.reuse, reused, calls.same)
                        args = copy.deepcopy(calls.resolve(call.args, returned))
                        kwargs = copy.deepcopy(calls.resolve(dict(call.kwargs), returned))
                        started = time.process_time()
                        try:
                            returned[index] = function(*args, **kwargs)
                        except Exception:
                            pass
                        seconds += time.process_time() - started
                        reuse.restore(namespace, reusing, reused)
                        calls.unbind(namespace, saved)
                spent.append(seconds)
            best.append(min(spent))
    finally:
        sys.path.remove(guard.HELPERS)
    return 1000 * sum(best) / len(best)


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child)] + _descendants(int(child))
    return found


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """A live process's own CPU seconds, and those of the children it has reaped (user + system each)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def cpu_split(main_seconds: float, count: int) -> dict[str, float]:
    """Milliseconds of CPU per submission in each kind of process, read from /proc while the pool is alive:
    this process (discovery, gradebook, reports), the pool's workers (loading, supervising the sandbox,
    checks, diagnosis), the fork servers, and the sandboxed children the fork servers reaped."""
    split = {"main": main_seconds, "workers": 0.0, "fork_servers": 0.0, "sandboxed_children": 0.0}
    for pid in _descendants(os.getpid()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            own, reaped = _cpu_seconds(pid)
        except OSError:
            continue
        if b"grader.sandbox.forkserver" in command:
            split["fork_servers"] += own
            split["sandboxed_children"] += reaped
        else:
            split["workers"] += own
    split["total"] = sum(split.values())
    return {name: round(1000 * seconds / count, 1) for name, seconds in split.items()}


def host_ticks() -> tuple[int, int] | None:
    """All CPU time the kernel has counted on every core, and the part of it the hypervisor gave to other
    machines (steal), in ticks since boot; None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    ticks = [int(field) for field in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return sum(ticks), ticks[7]


def interpreter() -> str:
    """The Python that ran the bench (and, through the sandbox, every child): version, executable, and
    whether it loads libpython as a shared library. On the machine gradgrade was built on, pyenv's 3.11.7
    (no profile-guided optimisation, a shared libpython) graded 13-16% fewer submissions a second than
    Debian's python3.11 in alternating runs, so a rate is comparable only between runs of one interpreter."""
    try:
        shared = any("libpython" in line for line in Path("/proc/self/maps").read_text().splitlines())
    except OSError:
        shared = None
    linkage = {True: "shared libpython", False: "static libpython", None: "libpython linkage unknown"}[shared]
    return f"{sys.version.split()[0]} {sys.executable} ({linkage})"


def stolen_percent(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """The share of the cores' time between two host_ticks readings that the hypervisor ran other machines
    in: a virtual machine's cores are slower by about that much, and so is every rate measured meanwhile."""
    if before is None or after is None or after[0] <= before[0]:
        return None
    return round(100 * (after[1] - before[1]) / (after[0] - before[0]), 1)


def byte_compile() -> None:
    """Compile gradgrade's own modules as installing it does, so that every process of the batch loads them
    rather than compiling them: where PYTHONDONTWRITEBYTECODE is set (it is on the machine gradgrade was
    built on) a checkout never gets its .pyc files, and each run would compile them again. (The mutant
    catalogue is read as text, never imported.)"""
    for package in ("grader", "reference"):
        compileall.compile_dir(ROOT / package, quiet=1)


def copies(folder: Path, sample: Path, count: int) -> Path:
    """count distinct copies of one submission file."""
    folder.mkdir(parents=True)
    data = sample.read_bytes()
    for index in range(count):
        (folder / f"s{index:05d}_{sample.stem}{sample.suffix}").write_bytes(unique_copy(data, sample.suffix, index))
    return folder


def correct_sample(spec: Path) -> Path:
    """The first correct_* submission of the spec's sample class (.py before .ipynb)."""
    found = sorted((spec.parent / f"{spec.stem}_class").glob("correct_*"), key=lambda path: (path.suffix != ".py", path.name))
    if not found:
        raise SystemExit(f"no correct_* submission in {spec.parent / (spec.stem + '_class')}; give --submission FILE")
    return found[0]


def plan_seconds(spec: str) -> float:
    """Seconds a fresh gradgrade process spends resolving the spec and building its plan."""
    import subprocess

    code = ("import time; t = time.perf_counter(); from grader import assignments; from grader.grading import pipeline; "
            "from grader.settings import Settings; s = Settings(assignment=assignments.setting(%r)); "
            "a = assignments.ready(s.assignment); pipeline._plan.__wrapped__(a, __import__('json').dumps(s.to_json())); "
            "print(time.perf_counter() - t)" % spec)
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return round(float(completed.stdout.split()[-1]), 2)


def spec_line(args: argparse.Namespace) -> dict:
    """Grade copies of a correct submission of the spec and of three_layer, same pool size, same run."""
    spec = Path(args.assignment).resolve()
    sample = Path(args.submission) if args.submission else correct_sample(spec)
    workers = args.jobs or executors.default_workers()
    workdir = Path(tempfile.mkdtemp(prefix="gradgrade-bench-spec-"))
    runs = {"spec": (Settings(assignment=assignments.setting(str(spec))), sample),
            "three_layer": (Settings(), SUBMISSIONS / "correct_matmul.py")}
    rates: dict[str, list[float]] = {name: [] for name in runs}
    statuses: dict[str, dict] = {}
    try:
        for round_ in range(args.rounds):
            for name, (settings, submission) in runs.items():
                folder = copies(workdir / f"{name}-{round_}", submission, args.count)
                assignment = assignments.ready(settings.assignment)
                executor = executors.LocalExecutor(workers, warm=settings.to_json())
                try:
                    started = time.perf_counter()
                    summary = batch.grade(folder, workdir / f"out-{name}-{round_}", settings, assignment=assignment,
                                          jobs=workers, executor=executor)
                    rates[name].append(len(summary.results) / (time.perf_counter() - started))
                finally:
                    executor.close()
                statuses[name] = summary.counts()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    spec_rate, baseline = max(rates["spec"]), max(rates["three_layer"])
    return {"bench": "batch-spec", "assignment": assignments.get(str(spec)).name, "submission": sample.name,
            "submissions": args.count, "workers": workers, "rounds": args.rounds,
            "spec_submissions_per_second": round(spec_rate, 1),
            "three_layer_submissions_per_second": round(baseline, 1),
            "spec_to_three_layer_ratio": round(spec_rate / baseline, 2),
            "spec_statuses": statuses["spec"], "three_layer_statuses": statuses["three_layer"],
            "plan_seconds": plan_seconds(str(spec)), "python": interpreter()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assignment", metavar="SPEC.py", help="compare a spec's grading rate with three_layer's")
    parser.add_argument("--submission", metavar="FILE", help="with --assignment: the correct submission copied")
    parser.add_argument("--rounds", type=int, default=1, help="with --assignment: rounds of both (best counts)")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--dask", action="store_true", help="then grade the same class on a Dask LocalCluster")
    args = parser.parse_args()
    settings = Settings()
    byte_compile()
    if args.assignment:
        print(json.dumps(spec_line(args)), flush=True)
        return
    workdir = Path(tempfile.mkdtemp(prefix="gradgrade-bench-"))
    try:
        folder = replicate(workdir / "class", args.count)
        workers = args.jobs or executors.default_workers()
        executor = executors.LocalExecutor(workers, warm=settings.to_json())
        started, before, host_before = time.perf_counter(), os.times(), host_ticks()
        clock = Clock(started)
        try:
            summary = batch.grade(folder, workdir / "out", settings, assignment=assignments.get(settings.assignment), jobs=workers, executor=executor,
                                  progress=clock)
            seconds = time.perf_counter() - started
            after, host_after = os.times(), host_ticks()
            cpu = (cpu_split(after.user + after.system - before.user - before.system, args.count)
                   if Path("/proc/self/task").is_dir() else None)
        finally:
            executor.close()
        started = time.perf_counter()
        rerun = batch.grade(folder, workdir / "out", settings, assignment=assignments.get(settings.assignment), jobs=workers)
        rerun_seconds = time.perf_counter() - started
        started = time.perf_counter()
        reports.write_reports(summary.results, workdir / "reports-only")
        report_seconds = time.perf_counter() - started
        line = {"bench": "batch", "executor": "local", "submissions": len(summary.results), "workers": workers,
                "cores": os.cpu_count(), "seconds": round(seconds, 2),
                "submissions_per_second": round(len(summary.results) / seconds, 1),
                "first_result_seconds": clock.first_result_seconds(),
                "steady_submissions_per_second": clock.steady_per_second(),
                "reports_seconds": round(report_seconds, 2),
                "rerun_unchanged_seconds": round(rerun_seconds, 2), "rerun_reused": rerun.reused,
                "statuses": summary.counts(), "host_cpu_stolen_percent": stolen_percent(host_before, host_after),
                "python": interpreter()}
        if cpu:
            line["cpu_ms_per_submission"] = cpu
        samples = sorted(folder.iterdir())[:len(discover.discover(SUBMISSIONS, assignment=assignments.get("three_layer")))]
        floor = student_code_ms(samples, settings)
        line["student_code_ms_per_submission"] = round(floor, 1)
        line["student_code_only_per_second"] = round((os.cpu_count() or 1) * 1000 / floor, 1)
        if cpu:
            # What gradgrade itself costs per submission, to compare commits on a host whose speed swings
            # (it moves both terms, so the difference moves less than submissions per second do).
            line["cpu_ms_beyond_student_code"] = round(cpu["total"] - floor, 1)
        if args.profile:
            line["per_submission_in_one_process"] = stage_profile(folder, settings)
        print(json.dumps(line), flush=True)
        if args.dask:
            from bench_dask import dask_line

            print(json.dumps(dask_line(folder, workdir / "out-dask", settings, workers=workers, local=summary,
                                       local_seconds=seconds)), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
