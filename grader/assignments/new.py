"""`gradgrade new-assignment`: a commented, working spec file for an instructor to edit into their own."""
from __future__ import annotations

from pathlib import Path

import jinja2

TEMPLATE = "new_assignment.py.j2"


class NewAssignmentError(ValueError):
    """The spec file cannot be written; the message is one line for the instructor."""


def spec_path(name: str) -> Path:
    """Where `new-assignment NAME` writes: NAME.py in this folder, or NAME itself when it is a path to a .py file."""
    path = Path(name)
    if not name.strip() or name.endswith(("/", "\\")) or path.name in (".", ".."):
        raise NewAssignmentError(f"{name!r} is not an assignment name (e.g. softmax_l2)")
    if path.suffix != ".py":
        path = path.with_name(path.name + ".py")
    if not path.stem or path.stem.startswith("."):
        raise NewAssignmentError(f"{name!r} is not an assignment name (e.g. softmax_l2)")
    return path


def write(name: str) -> Path:
    """Write the template spec for the assignment called name; never over an existing file."""
    path = spec_path(name)
    environment = jinja2.Environment(loader=jinja2.PackageLoader("grader"), keep_trailing_newline=True,
                                      autoescape=False, undefined=jinja2.StrictUndefined)
    text = environment.get_template(TEMPLATE).render(name=path.stem, file=path.name)
    try:
        with open(path, "x", encoding="utf-8") as handle:  # "x": an instructor's spec is never overwritten
            handle.write(text)
    except FileExistsError:
        raise NewAssignmentError(f"{path} exists already; give another name or move it away") from None
    except OSError as error:
        raise NewAssignmentError(f"cannot write {path}: {error.strerror or error}") from None
    return path
