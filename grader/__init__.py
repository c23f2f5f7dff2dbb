"""gradgrade's engine; in Jupyter, `grader.check(backward_propagation_n)` grades a function you wrote."""
from __future__ import annotations

import sys
import types
from typing import Any

__version__ = "0.1.0"


class _CallableModule(types.ModuleType):
    """grader.check is both the numerical module and, called, the notebook entry point."""

    def __call__(self, *functions: Any, **options: Any) -> Any:
        from grader.notebook import check

        return check(*functions, **options)


class _Package(types.ModuleType):
    # Importing the submodule grader.check sets the package attribute `check` to it, which would hide a
    # plain `check` function; making that module callable keeps both `check.THRESHOLD` and `grader.check(f)`.
    def __setattr__(self, name: str, value: Any) -> None:
        if name == "check" and type(value) is types.ModuleType:
            value.__class__ = _CallableModule
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    # Lazy, so `import grader` stays light: numpy and the notebook machinery load on first use.
    if name == "check":
        import importlib

        return importlib.import_module("grader.check")
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
