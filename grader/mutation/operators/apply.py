"""Applying an operator: its sites in a tree, in source order, and the source of each mutant."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from grader.mutation.operators.registry import Operator


@dataclass(frozen=True)
class Site:
    """One place an operator applies: the node's index in pre-order and the replacement made there."""

    operator: str
    occurrence: int
    index: int
    original: ast.AST
    replacement: ast.AST


def preorder(tree: ast.AST) -> list[tuple[ast.AST, ast.AST | None, str | None, int | None]]:
    """Every node in source order with its parent, the parent's field and the index within it."""
    found: list[tuple[ast.AST, ast.AST | None, str | None, int | None]] = [(tree, None, None, None)]

    def visit(parent: ast.AST) -> None:
        for field, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for index, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        found.append((child, parent, field, index))
                        visit(child)
            elif isinstance(value, ast.AST):
                found.append((value, parent, field, None))
                visit(value)

    visit(tree)
    return found


def bound_names(tree: ast.AST) -> frozenset:
    """The names a piece of code binds: arguments, assignment and loop targets."""
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    names |= {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
    return frozenset(names)


def sites(operator: Operator, tree: ast.AST, *, names: frozenset | None = None,
          nodes: list | None = None) -> list[Site]:
    """Every site of operator in tree, numbered 1, 2, ... in source order (nodes: preorder(tree), if at hand)."""
    names = bound_names(tree) if names is None else names
    found = []
    for index, (node, _, _, _) in enumerate(nodes or preorder(tree)):
        for replacement in operator.replacements(node, names):
            found.append(Site(operator.id, len(found) + 1, index, node, replacement))
    return found


def mutated_source(tree: ast.AST, site: Site, *, nodes: list | None = None) -> str:
    """ast.unparse of tree with the site's node replaced, without copying the tree.

    The replacement is swapped in for the time of unparsing and swapped back, so tree is unchanged
    afterwards; nodes may pass preorder(tree) when it is already at hand.
    """
    _, parent, field, position = (nodes or preorder(tree))[site.index]
    original = getattr(parent, field) if position is None else getattr(parent, field)[position]
    if original is not site.original:
        raise ValueError(f"site {site.operator}-{site.occurrence} does not belong to this tree")
    try:
        if position is None:
            setattr(parent, field, site.replacement)
        else:
            getattr(parent, field)[position] = site.replacement
        return ast.unparse(tree)
    finally:
        if position is None:
            setattr(parent, field, original)
        else:
            getattr(parent, field)[position] = original


def mutants_of(source: str, operator: Operator) -> list[str]:
    """The source of every mutant operator makes from source (used by the examples and their test)."""
    tree = ast.parse(source)
    return [mutated_source(tree, site) for site in sites(operator, tree)]
