"""Finding the student's line of each gradient: the last assignment, in ast.walk's order, and a constant over m."""
from __future__ import annotations

import pytest

from grader.grading import source_lines


def test_gradient_lines_find_the_students_assignment():
    source = "def backward_propagation_n(X, Y, cache):\n    dW2 = 1\n    dW2 = 2 * dW2\n    dW1, db1 = f()\n" \
             "    grads['db3'] = 3\n"
    lines = source_lines.gradient_lines(source, "backward_propagation_n")
    assert (lines["dW2"].line, lines["dW1"].line, lines["db1"].line, lines["db3"].line) == (3, 4, 4, 5)
    assert source_lines.gradient_lines("def broken(:\n", "backward_propagation_n") == {}


NESTED = """\
def outer():
    try:
        x = 1
    except ValueError:
        def backward_propagation_n():
            dW1 = 1; dW1 = 2
    match x:
        case 1:
            y = [lambda: 0 for _ in range(2)]
    while x:
        if y:
            class C:
                def backward_propagation_n():
                    db1 = 3
    with open(x) as f:
        z = 2
"""


# Every kind of statement that holds statements, nested in one another.
EVERY_BLOCK = """
async def f(x):
    async for a in x:
        b = 1
    else:
        c = 2
    async with x as y:
        d = lambda: (e if e else f)
    try:
        g = 3
    except ValueError as error:
        h = 4
    else:
        i = 5
    finally:
        j = 6
for k in x:
    match k:
        case [1, *rest] if rest:
            l = 7
        case _:
            try:
                m = 8
            except* KeyError:
                n = 9
else:
    o = [p for p in x]
class Q(object, metaclass=type):
    @staticmethod
    def r() -> None:
        while s:
            break
"""


@pytest.mark.parametrize("source", [pytest.param(NESTED, id="nested"), pytest.param(EVERY_BLOCK, id="every-block"),
                                    pytest.param("x = 1", id="one-line"), pytest.param("", id="empty")])
def test_statements_come_in_ast_walks_order(source):
    import ast

    tree = ast.parse(source)
    assert list(source_lines.statements(tree)) == [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]
    for node in ast.walk(tree):
        assert list(source_lines.statements(node)) == [inner for inner in ast.walk(node) if isinstance(inner, ast.stmt)]


def test_gradient_lines_take_the_last_definition_in_walk_order_and_the_last_assignment_on_a_line():
    lines = source_lines.gradient_lines(NESTED, "backward_propagation_n")
    assert set(lines) == {"db1"} and lines["db1"].line == 14
    lines = source_lines.gradient_lines(NESTED.replace("def backward_propagation_n():\n                    db1", "def f():\n                    db1"),
                                    "backward_propagation_n")
    assert lines["dW1"].line == 6 and lines["dW1"].value.value == 2


def test_constant_over_m_is_seen_in_the_students_line():
    lines = source_lines.gradient_lines("def f():\n    db1 = 4. / m * s\n    dW2 = 1. / m * d * 2\n", "f")
    assert source_lines.constant_over_m(lines["db1"].value) and not source_lines.constant_over_m(lines["dW2"].value)
