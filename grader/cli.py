"""The gradgrade command line: argparse, and subcommands that only call the stages."""
from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path
from typing import Sequence

from grader import assignments, reference
from grader.grading import conventions, picking, pipeline, score
from grader.numerics import check
from grader.report import render
from grader.settings import Settings
from grader.batch.student_ids import BadPattern, IdPattern

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return number


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def _id_pattern(value: str) -> IdPattern:
    try:
        return IdPattern.parse(value)
    except BadPattern as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_grading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assignment", default=reference.DEFAULT, help=f"assignment to grade (default: {reference.DEFAULT})")
    parser.add_argument("--threshold", type=_positive, default=None,
                        help=f"pass below this relative difference (default: the spec's, {check.THRESHOLD:g} "
                             "for the built-ins)")
    parser.add_argument("--epsilon", type=_positive, default=check.EPSILON,
                        help=f"central-difference step (default: {check.EPSILON:g})")
    parser.add_argument("--timeout", type=_positive, default=10.0, help="seconds per call of student code (default: 10)")
    parser.add_argument("--total-timeout", type=_positive, default=60.0,
                        help="seconds for a whole submission, loading and every call (default: 60)")
    parser.add_argument("--run-all", action="store_true",
                        help="run every top-level statement, not only imports and definitions")
    parser.add_argument("--rubric", metavar="FILE",
                        help="an instructor's TOML rubric: points and thresholds (default: 6 backward + 4 checker)")
    parser.add_argument("--fast", action="store_true",
                        help="check gradients along random directions, exactly only where they disagree (ReLU networks)")


def _rubric_tables(args: argparse.Namespace) -> dict | None:
    if not args.rubric:
        return None
    if getattr(args, "_rubric_tables", None) is None:
        args._rubric_tables = score.load_rubric(args.rubric)
    return args._rubric_tables


def _settings(args: argparse.Namespace) -> Settings:
    tables = _rubric_tables(args)
    conventions.check_rubric(assignments.get(args.assignment).functions, tables)
    # The late policy judges no gradient, nor does [pick] (which file is graded, not how): left out of
    # Settings, so changing them regrades nothing (a new pick regrades only the students whose file it changes).
    rubric = {section: table for section, table in tables.items() if section not in ("late", "pick")} if tables else None
    return Settings(assignment=assignments.setting(args.assignment), epsilon=args.epsilon,
                    threshold=args.threshold or assignments.threshold(args.assignment),
                    timeout=args.timeout, total_timeout=args.total_timeout, run_all=args.run_all,
                    rubric=rubric or None, fast=args.fast)


def _pick(args: argparse.Namespace) -> picking.Pick:
    """The rubric's [pick] table with --pick, --pick-pattern and --pick-file over it."""
    return picking.from_table((_rubric_tables(args) or {}).get("pick"), rule=args.pick, pattern=args.pick_pattern,
                              files=args.pick_file)


def _late_rules(args: argparse.Namespace):
    from grader.grading import late

    tables = _rubric_tables(args) or {}
    policy = late.policy_from_table(tables["late"]) if "late" in tables else None
    return late.LateRules(due=args.due, policy=policy, late_from=late.LateFrom(args.late_from))


def _due(value: str):
    from grader.grading import late

    try:
        return late.parse_due(value)
    except late.LatePolicyError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _not_one_submission(path: Path) -> str | None:
    """Why `check` cannot grade path as one submission (a folder or a class's zip goes to `grade`), or None."""
    grade = f"to grade every submission in it, run: gradgrade grade {path}"
    if path.is_dir():
        return f"is a folder; gradgrade check grades one submission file: {grade}"
    if not path.exists():
        return "no such file"
    if not path.is_file():
        return "is not a regular file"
    if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        return f"is a zip archive; gradgrade check grades one submission file: {grade}"
    return None


def _check(args: argparse.Namespace) -> int:
    path = Path(args.file)
    problem = _not_one_submission(path)
    if problem:
        print(f"gradgrade: {args.file}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    settings = _settings(args)
    result = pipeline.grade_file(path, settings, assignment=assignments.ready(settings.assignment))
    print(render.json_text(result) if args.format == "json" else render.text(result))
    if args.html:
        from grader.report import html
        from grader.report.atomic import write_atomic

        try:
            write_atomic(Path(args.html), html.student_page(result))
        except OSError as error:
            print(f"gradgrade: cannot write {args.html}: {error.strerror or error}", file=sys.stderr)
            return EXIT_USAGE
    return EXIT_PASS if result.status.value == "pass" else EXIT_FAIL


def _grade(args: argparse.Namespace) -> int:
    from grader.batch import batch, dask_executor, entries, reports
    from grader.batch.progress import default_progress

    executor = None
    if args.scheduler:
        try:
            executor = dask_executor.DaskExecutor(args.scheduler, workers=args.jobs or dask_executor.LOCAL_WORKERS)
        except dask_executor.DaskUnavailable as error:
            print(f"gradgrade: {error}", file=sys.stderr)
            return EXIT_USAGE
    try:
        settings = _settings(args)
        summary = batch.grade(Path(args.directory), Path(args.out), settings,
                              assignment=assignments.ready(settings.assignment), jobs=args.jobs,
                              force=args.force, executor=executor, progress=default_progress(),
                              id_pattern=args.id_pattern, late_rules=_late_rules(args), students=args.student,
                              layout=args.feedback_layout, pick=_pick(args))
    except (entries.DiscoverError, dask_executor.DaskUnavailable, reports.OutputError,
            batch.UnknownStudent) as error:
        print(f"gradgrade: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"gradgrade: interrupted; what was graded is in {Path(args.out) / 'gradebook.sqlite'}, "
              "run again to finish", file=sys.stderr)
        return 130
    finally:
        if executor is not None:
            executor.close()
    print(summary.line())
    return EXIT_PASS


def _override(args: argparse.Namespace) -> int:
    from grader.batch import overrides, reports

    try:
        if args.clear:
            removed = overrides.clear_override(Path(args.out), args.student, check=args.check)
            what = f"{args.student}'s override of {args.check or 'the whole score'}"
            print(f"removed {what}" if removed else f"{what} was not set: nothing removed")
        else:
            if args.points is None:
                print("gradgrade: override needs --points P (or --clear to remove one)", file=sys.stderr)
                return EXIT_USAGE
            made = overrides.set_override(Path(args.out), args.student, points=args.points, check=args.check,
                                          comment=args.comment, by=args.by)
            print(f"{args.student}: {made.check or 'score'} set to {made.points:g} by {made.by} at {made.at}")
        count = reports.refresh(Path(args.out))
    except (overrides.OverrideError, reports.OutputError) as error:
        print(f"gradgrade: {error}", file=sys.stderr)
        return EXIT_USAGE
    if count:
        print(f"reports in {args.out} written again with the overrides ({count} submission(s))")
    return EXIT_PASS


def _export(args: argparse.Namespace) -> int:
    from grader.batch import export
    from grader.report.atomic import write_atomic

    try:
        made = export.export(export.read_results(Path(args.directory)), export.Target(args.to), column=args.column)
    except export.ExportError as error:
        print(f"gradgrade: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.out:
        try:
            write_atomic(Path(args.out), made.text)
        except OSError as error:
            print(f"gradgrade: cannot write {args.out}: {error.strerror or error}", file=sys.stderr)
            return EXIT_USAGE
    else:
        sys.stdout.write(made.text)
    if made.unmatched:
        shown = ", ".join(made.unmatched[:5]) + (f" and {len(made.unmatched) - 5} more" if len(made.unmatched) > 5 else "")
        print(f"gradgrade: {len(made.unmatched)} student(s) have no {args.to} number in their id (grade with "
              f"--id-pattern {args.to} to keep it), so their rows carry the name only: {shown}", file=sys.stderr)
    return EXIT_PASS


def _gradescope(args: argparse.Namespace) -> int:
    from grader import gradescope

    return gradescope.run(Path(args.submission), Path(args.results), _settings(args))


def _autograder(args: argparse.Namespace) -> int:
    from grader import autograder

    try:
        settings = _settings(args)
        built = autograder.build(Path(args.out), settings, assignment=assignments.ready(settings.assignment),
                                 rubric_path=Path(args.rubric) if args.rubric else None,
                                 wheel=Path(args.wheel) if args.wheel else None)
    except autograder.AutograderError as error:
        print(f"gradgrade: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {built.path} for {built.assignment}: {', '.join(built.files)}; upload it on Gradescope "
          "(Configure Autograder, Zip file upload)")
    return EXIT_PASS


def _mutation(args: argparse.Namespace) -> int:
    from grader.mutation import catalogue, judge
    from grader.report import mutation as mutation_report

    reference = getattr(args, "reference", None)
    installed = None if reference else assignments.get(args.assignment)
    if installed is not None and installed.graded_by_spec:
        return _mutation_of_spec(args, installed)
    module = catalogue.load_reference(Path(reference)) if reference else installed.module
    try:
        if args.command == "mutate":
            run = catalogue.write_catalogue(module, directory=Path(args.out) if args.out else catalogue.MUTANTS_DIR,
                                            installed=installed)[0]
        else:
            run = judge.run(module, installed=installed)
        print(mutation_report.json_text(run) if args.format == "json" else mutation_report.text(run))
        mutation_report.write_reports(run, html_path=args.html, stryker_path=args.stryker)
    except OSError as error:
        print(f"gradgrade: cannot write {error.filename or 'the output'}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_PASS if run.passed else EXIT_FAIL


def _new_assignment(args: argparse.Namespace) -> int:
    from grader.assignments import new

    try:
        path = new.write(args.name)
    except new.NewAssignmentError as error:
        print(f"gradgrade: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {path}: a working spec to edit; try it with gradgrade mutation-test --assignment {path}")
    return EXIT_PASS


def _mutation_of_spec(args: argparse.Namespace, assignment: assignments.Assignment) -> int:
    """mutation-test on a spec assignment: its catalogue is made in process, and survivors get suggestions."""
    from grader.mutation import suggest
    from grader.report import mutation as mutation_report

    if args.command == "mutate":
        print(f"gradgrade: {assignment.name} is a spec assignment: its mutants are made when it is graded or "
              f"tested, and nothing is written to mutants/; run gradgrade mutation-test --assignment "
              f"{args.assignment}", file=sys.stderr)
        return EXIT_USAGE
    run = suggest.run(assignment)  # a bad spec raises SpecError (a ValueError): one line, exit 2
    print(mutation_report.json_text(run) if args.format == "json" else mutation_report.text(run))
    try:
        mutation_report.write_reports(run, html_path=args.html, stryker_path=args.stryker)
    except OSError as error:
        print(f"gradgrade: cannot write {error.filename or 'the output'}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_PASS if run.passed else EXIT_FAIL


def _add_mutation_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assignment", default=reference.DEFAULT, help=f"assignment to mutate (default: {reference.DEFAULT})")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--html", metavar="FILE", help="also write the HTML mutation report to FILE")
    parser.add_argument("--stryker", metavar="FILE", help="also write Stryker's mutation-testing-report JSON to FILE")
    parser.set_defaults(run=_mutation)


def _version() -> str:
    """The installed distribution's version (pyproject.toml's, by way of the package metadata)."""
    from importlib import metadata

    try:
        return metadata.version("gradgrade")
    except metadata.PackageNotFoundError:
        return "(not installed: run from a source tree)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradgrade", description="Grade gradient-checking assignments.")
    parser.add_argument("--version", action="version", version=f"gradgrade {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check_parser = commands.add_parser("check", help="grade one submission (.py or .ipynb)")
    check_parser.add_argument("file", help="the submission to grade")
    check_parser.add_argument("--format", choices=("text", "json"), default="text")
    _add_grading_options(check_parser)
    check_parser.add_argument("--html", metavar="PAGE", help="also write the student page (HTML) to PAGE")
    check_parser.set_defaults(run=_check)
    grade_parser = commands.add_parser("grade", help="grade a class: a folder or .zip of submissions")
    grade_parser.add_argument("directory", help="the submissions: flat folder, folder per student, nbgrader, or .zip")
    grade_parser.add_argument("--out", default="reports", help="output folder (default: reports)")
    grade_parser.add_argument("--jobs", type=_count, default=None, help="parallel workers (default: all cores)")
    grade_parser.add_argument("--force", action="store_true", help="regrade everything, not only what changed")
    grade_parser.add_argument("--scheduler", default=None,
                              help="grade on Dask: 'local' or a scheduler address tcp://HOST:PORT")
    grade_parser.add_argument("--id-pattern", type=_id_pattern, default=None, metavar="PATTERN",
                              help="read student ids out of an LMS's file or folder names: canvas, moodle, "
                                   "blackboard, or a regular expression whose groups are the id")
    grade_parser.add_argument("--student", action="append", default=[], metavar="ID",
                              help="grade this student again (repeatable); the others are reused from the gradebook")
    grade_parser.add_argument("--due", type=_due, default=None, metavar="DATETIME",
                              help="the due time, ISO 8601 (2026-03-01T23:59, with +01:00 or Z, or local time)")
    grade_parser.add_argument("--late-from", choices=("auto", "mtime"), default="auto",
                              help="where submission times come from: nbgrader's timestamp.txt and Blackboard's "
                                   "attempt dates (auto), or also the files' modification times (mtime)")
    grade_parser.add_argument("--feedback-layout", choices=("flat", "nbgrader"), default="flat",
                              help="student pages beside the class page (flat), or in "
                                   "feedback/<student>/<assignment>/ as nbgrader's (nbgrader)")
    grade_parser.add_argument("--pick", choices=[rule.value for rule in picking.Rule], default=None,
                              help="which of a student's several files is graded: the newest (default), or the "
                                   "newest matching --pick-pattern")
    grade_parser.add_argument("--pick-pattern", default=None, metavar="REGEX",
                              help="with --pick name-pattern: a regular expression searched in each file's path")
    grade_parser.add_argument("--pick-file", action="append", default=[], metavar="STUDENT=PATH",
                              help="grade this file of this student's (repeatable; PATH as the student's page "
                                   "lists it, or its name)")
    _add_grading_options(grade_parser)
    grade_parser.set_defaults(run=_grade)
    override_parser = commands.add_parser("override", help="set (or --clear) an instructor's points for a student")
    override_parser.add_argument("out", help="the output folder holding the gradebook")
    override_parser.add_argument("student", help="the student id, as on the class page")
    override_parser.add_argument("--points", type=float, default=None, help="the points to give")
    override_parser.add_argument("--check", default=None, metavar="NAME",
                                 help="override this check's points (the function's name, as on the student's page), not the whole score")
    override_parser.add_argument("--comment", default="", help="why, shown on the student's page")
    override_parser.add_argument("--by", default=None, help="who sets it (default: the OS user)")
    override_parser.add_argument("--clear", action="store_true", help="remove the override instead")
    override_parser.set_defaults(run=_override)
    export_parser = commands.add_parser("export", help="write the final scores for an LMS gradebook to import")
    export_parser.add_argument("directory", metavar="OUT", help="the output folder of `gradgrade grade`")
    export_parser.add_argument("--to", choices=("canvas", "moodle", "csv"), required=True)
    export_parser.add_argument("--out", default=None, metavar="FILE", help="write to FILE (default: standard output)")
    export_parser.add_argument("--column", default="",
                               help="Canvas's assignment column, e.g. 'Gradient checking (12345)' (default: the assignment)")
    export_parser.set_defaults(run=_export)
    gradescope_parser = commands.add_parser("gradescope", help="the Gradescope autograder entry point")
    gradescope_parser.add_argument("--submission", default="/autograder/submission", help="the submission folder")
    gradescope_parser.add_argument("--results", default="/autograder/results/results.json",
                                   help="where to write Gradescope's results.json")
    _add_grading_options(gradescope_parser)
    gradescope_parser.set_defaults(run=_gradescope)
    autograder_parser = commands.add_parser("autograder", help="build the Gradescope autograder zip for an assignment")
    autograder_parser.add_argument("--out", default="autograder.zip", help="the zip to write (default: autograder.zip)")
    autograder_parser.add_argument("--wheel", metavar="FILE",
                                   help="bundle this gradgrade wheel instead of building one from the source tree")
    _add_grading_options(autograder_parser)
    autograder_parser.set_defaults(run=_autograder)
    mutate_parser = commands.add_parser("mutate", help="(re)generate mutants/<assignment>/ from the reference")
    _add_mutation_options(mutate_parser)
    mutate_parser.add_argument("--out", default=None,
                               help="catalogue folder (default: the repository's mutants/)")
    test_parser = commands.add_parser("mutation-test", help="prove the checker sound: the reference passes, every mutant is caught")
    _add_mutation_options(test_parser)
    test_parser.add_argument("--reference", metavar="PATH", help="another reference module file to mutate and test")
    new_parser = commands.add_parser("new-assignment", help="write NAME.py: a commented, working assignment spec to edit")
    new_parser.add_argument("name", help="the assignment's name (its file is NAME.py), or the .py file's path")
    new_parser.set_defaults(run=_new_assignment)
    return parser


def _printable_output() -> None:
    """Let a path that is not UTF-8 (a folder an old tool named) be printed as escapes rather than stop the
    run where output is strict about its encoding (PYTHONIOENCODING=utf-8, say)."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Run gradgrade; returns the exit code (0 passed, 1 failed or errored, 2 could not run)."""
    _printable_output()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_PASS
    try:
        if getattr(args, "assignment", None):
            assignments.ready(args.assignment)  # an unknown name or a spec that cannot grade: one line, exit 2
        return args.run(args)
    except assignments.UnknownAssignment as error:
        print(f"gradgrade: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as error:
        print(f"gradgrade: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader (`| head`) went away; say nothing more.
        sys.stderr.close()
        return EXIT_FAIL
