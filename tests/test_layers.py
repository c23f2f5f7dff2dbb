"""gradgrade's architecture as a test: one package per stage, imports point down, small modules."""
import ast
from pathlib import Path

import pytest

GRADER = Path(__file__).resolve().parent.parent / "grader"
# Highest first: a module may import its own package and any package after its own, never one before.
LAYERS = (
    {"cli", "jupyter", "gradescope", "autograder", "__main__"},   # front doors: parse, delegate, print
    {"batch"},
    {"report"},                                     # pages, tables and JSON of results and mutation runs
    {"grading"},
    {"mutation"},
    {"assignments"},
    {"sandbox", "numerics", "load", "settings", "reference", "mutants"},
    {"results", "course", "spec"},                  # shared records, the course's helper modules, the spec API
)
STAGES = ("load", "sandbox", "numerics", "grading", "mutation", "batch", "report", "assignments")


def _layer(module: str) -> int:
    top = module.split(".")[0]
    found = [index for index, layer in enumerate(LAYERS) if top in layer]
    assert found, f"grader.{top} is in no layer of tests/test_layers.py: place it"
    return found[0]


def _modules():
    for path in sorted(GRADER.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        relative = path.relative_to(GRADER).with_suffix("")
        name = ".".join(part for part in relative.parts if part != "__init__") or "__init__"
        yield name, path


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "grader":
            parts = node.module.split(".")[1:]
            if parts:
                yield ".".join(parts)
            else:
                yield from (alias.name for alias in node.names if not alias.name.startswith("__"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("grader."):
                    yield alias.name[len("grader."):]


@pytest.mark.parametrize("module, path", list(_modules()), ids=[name for name, _ in _modules()])
def test_a_module_imports_only_its_own_stage_and_the_stages_below(module, path):
    if module == "__init__":
        return
    mine = _layer(module)
    upward = [name for name in _imports(path) if _layer(name) < mine]
    assert upward == [], f"grader.{module} imports a higher stage: {upward}"


def test_the_stages_are_packages_that_say_what_they_receive_and_hand_on():
    for stage in STAGES:
        init = GRADER / stage / "__init__.py"
        assert init.is_file(), f"grader/{stage}/ is not a package"
        docstring = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert len(docstring.split()) >= 20, f"grader/{stage}/__init__.py does not say what the stage does"


def test_few_modules_at_the_top_and_none_over_500_lines():
    top = [path.name for path in GRADER.glob("*.py")]
    assert len(top) <= 9, top
    long = {str(path.relative_to(GRADER)): count for _, path in _modules()
            if (count := len(path.read_text().splitlines())) > 500}
    long.update({str(path.relative_to(GRADER.parent)): count
                 for path in (GRADER.parent / "reference").glob("*.py")
                 if (count := len(path.read_text().splitlines())) > 500})
    assert long == {}
