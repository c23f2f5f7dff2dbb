"""Swap operators: a variable of the same role from the wrong layer."""
from __future__ import annotations

import ast

from grader.mutation.operators.helpers import layer, neighbour
from grader.mutation.operators.registry import register


@register("swap-layer-input", family="swap", nodes=(ast.Attribute,),
          misconception="dW[l] uses another layer's input: dW[l] = dZ[l] A[l-1].T, with A[0] = X.",
          examples=[("X = A1 = A2 = 0\ndW2 = np.dot(dZ2, A1.T)", ["X = A1 = A2 = 0\ndW2 = np.dot(dZ2, X.T)"]),
                    ("X = A1 = 0\ndW1 = np.dot(dZ1, X.T)", ["X = A1 = 0\ndW1 = np.dot(dZ1, A1.T)"])])
def layer_input(node, names):
    """A[l-1].T becomes the previous layer's input (X for A1), or X.T becomes A1.T."""
    if node.attr != "T" or not isinstance(node.value, ast.Name):
        return None
    name = node.value.id
    if name == "X":
        other = "A1" if "A1" in names else None
    elif name == "A1":
        other = "X" if "X" in names else None
    elif name.startswith("A"):
        other = neighbour(name, names)
    else:
        other = None
    if other:
        return ast.Attribute(ast.Name(other, ast.Load()), "T", ast.Load())


@register("swap-weight-layer", family="swap", nodes=(ast.Name,),
          misconception="Another layer's weights are used: dA[l-1] = W[l].T dZ[l] takes the weights of layer l.",
          examples=[("W2 = W3 = 0\ndA2 = np.dot(W3.T, dZ3)", ["W2 = W3 = 0\ndA2 = np.dot(W2.T, dZ3)"])])
def weight_layer(node, names):
    """W[l] becomes W[l-1] (or W[l+1] for the first layer)."""
    if isinstance(node.ctx, ast.Load) and node.id.startswith("W"):
        other = neighbour(node.id, names)
        if other:
            return ast.Name(other, ast.Load())


@register("swap-skip-local-derivative", family="swap", nodes=(ast.Name,),
          misconception="dA is used where dZ is needed: this skips the activation's local derivative (the ReLU mask).",
          examples=[("dA2 = dZ2 = 0\ndW2 = np.dot(dZ2, A1.T)", ["dA2 = dZ2 = 0\ndW2 = np.dot(dA2, A1.T)"]),
                    ("dZ3 = 0\ndW3 = np.dot(dZ3, A2.T)", [])])
def skip_local_derivative(node, names):
    """dZ[l] becomes dA[l] (which the code also computes), skipping the ReLU's derivative."""
    if isinstance(node.ctx, ast.Load) and node.id.startswith("dZ"):
        other = "dA" + node.id[2:]
        if other in names:
            return ast.Name(other, ast.Load())
