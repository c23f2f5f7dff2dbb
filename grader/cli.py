"""The gradgrade command line: argparse, and subcommands that only call the stages."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from grader import assignments, check, pipeline, render, score
from grader.settings import Settings

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return number


def _add_grading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assignment", default="three_layer", help="assignment to grade (default: three_layer)")
    parser.add_argument("--threshold", type=_positive, default=check.THRESHOLD,
                        help=f"pass below this relative difference (default: {check.THRESHOLD:g})")
    parser.add_argument("--epsilon", type=_positive, default=check.EPSILON,
                        help=f"central-difference step (default: {check.EPSILON:g})")
    parser.add_argument("--timeout", type=_positive, default=10.0, help="seconds per call of student code (default: 10)")
    parser.add_argument("--run-all", action="store_true",
                        help="run every top-level statement, not only imports and definitions")
    parser.add_argument("--rubric", metavar="FILE",
                        help="an instructor's TOML rubric: points and thresholds (default: 6 backward + 4 checker)")


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(assignment=args.assignment, epsilon=args.epsilon, threshold=args.threshold,
                             timeout=args.timeout, run_all=args.run_all,
                             rubric=score.load_rubric(args.rubric) if getattr(args, "rubric", None) else None)


def _check(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"gradgrade: {args.file}: no such file", file=sys.stderr)
        return EXIT_USAGE
    result = pipeline.grade_file(path, _settings(args))
    print(render.json_text(result) if args.format == "json" else render.text(result))
    return EXIT_PASS if result.status.value == "pass" else EXIT_FAIL


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradgrade", description="Grade gradient-checking assignments.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check_parser = commands.add_parser("check", help="grade one submission (.py or .ipynb)")
    check_parser.add_argument("file", help="the submission to grade")
    check_parser.add_argument("--format", choices=("text", "json"), default="text")
    _add_grading_options(check_parser)
    check_parser.set_defaults(run=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run gradgrade; returns the exit code (0 passed, 1 failed or errored, 2 could not run)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_PASS
    try:
        if getattr(args, "assignment", None):
            assignments.get(args.assignment)
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
