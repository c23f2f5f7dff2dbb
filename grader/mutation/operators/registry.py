"""The operator registry: what an operator is, its worked examples, and the decorator that registers one."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Sequence, Union


# An operator looks at one node (with the names the function binds) and returns its replacement,
# several alternative replacements, or None when it does not apply there.
Replacement = Union[ast.AST, Sequence[ast.AST], None]
OperatorFunction = Callable[[ast.AST, frozenset], Replacement]


@dataclass(frozen=True)
class Example:
    """An input snippet and the source of every mutant the operator makes from it, in occurrence order."""

    source: str
    expected: tuple[str, ...]


@dataclass(frozen=True)
class Operator:
    """One mutation operator: id, family, the student-facing misconception, and worked examples."""

    id: str
    family: str
    description: str
    misconception: str
    node_types: tuple[type, ...]
    function: OperatorFunction
    examples: tuple[Example, ...]

    def __post_init__(self) -> None:
        if not self.description or not self.misconception:
            raise ValueError(f"operator {self.id} needs a description and a misconception")
        if not self.examples:
            raise ValueError(f"operator {self.id} needs at least one example")

    def replacements(self, node: ast.AST, names: frozenset) -> list[ast.AST]:
        """Every replacement of node this operator makes; empty when it does not apply."""
        if not isinstance(node, self.node_types):
            return []
        found = self.function(node, names)
        if found is None:
            return []
        found = [found] if isinstance(found, ast.AST) else list(found)
        original = ast.dump(node)
        # Replacements take the node's position, so they unparse and report like the code they replace.
        return [ast.fix_missing_locations(ast.copy_location(replacement, node))
                for replacement in found if ast.dump(replacement) != original]


REGISTRY: dict[str, Operator] = {}


def register(id: str, *, family: str, misconception: str, nodes: tuple[type, ...],
             examples: Sequence[tuple[str, Sequence[str]]]) -> Callable[[OperatorFunction], OperatorFunction]:
    """Add the decorated function to REGISTRY; its docstring's first line is the description."""
    def decorate(function: OperatorFunction) -> OperatorFunction:
        if id in REGISTRY:
            raise ValueError(f"operator {id} registered twice")
        description = (function.__doc__ or "").strip().splitlines()[0] if function.__doc__ else ""
        REGISTRY[id] = Operator(id=id, family=family, description=description, misconception=misconception,
                                node_types=nodes, function=function,
                                examples=tuple(Example(source, tuple(expected)) for source, expected in examples))
        return function
    return decorate
