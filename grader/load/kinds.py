"""What a submission holds: .py or .ipynb, by its file name or, where they differ, by its text."""
from __future__ import annotations

import json
from pathlib import PurePosixPath

from grader.load.parse import parse

SUFFIXES = (".py", ".ipynb")
# Suffixes a browser download or an upload form adds after the real one: `hw.ipynb.txt`, `hw.py.json`.
ADDED_SUFFIXES = (".txt", ".json")


def source_kind(filename: str) -> str | None:
    """What a file name says the file holds: ".py" or ".ipynb" (in any case), or None for anything else.

    A name a download added a suffix to (`hw.ipynb.txt`, `hw.py.json`) still says what it held.
    """
    suffixes = [suffix.lower() for suffix in PurePosixPath(filename).suffixes]
    if suffixes and suffixes[-1] in SUFFIXES:
        return suffixes[-1]
    if len(suffixes) > 1 and suffixes[-1] in ADDED_SUFFIXES and suffixes[-2] in SUFFIXES:
        return suffixes[-2]
    return None


def source_stem(filename: str) -> str:
    """The file name without the suffixes source_kind read: `Alice.PY` -> `Alice`, `bob.ipynb.txt` -> `bob`."""
    path = PurePosixPath(PurePosixPath(filename).name)
    if source_kind(path.name) is not None and path.suffix.lower() in ADDED_SUFFIXES:
        path = path.with_suffix("")
    return path.stem


def held_kind(text: str, kind: str) -> str:
    """What text is, where its name says otherwise: a notebook's JSON saved as .py, or Python source saved as
    .ipynb (a rename, an upload form's conversion); kind, what the name says, in every other case."""
    if kind == ".py" and text.lstrip().startswith("{") and '"cells"' in text:
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            return kind
        return ".ipynb" if isinstance(document, dict) and "cells" in document and "nbformat" in document else kind
    if kind == ".ipynb" and not text.lstrip().startswith(("{", "[")):
        return ".py" if parse(text)[0] is not None else kind
    return kind
