"""Submissions in the shapes real ones take, built from the sample class's correct submission: an nbconvert
export with the notebook's markdown, a Colab notebook, Windows and classic-Mac line endings, byte order
marks, declared encodings, a PowerShell UTF-16 redirect, and a hand-written .py with one broken function."""
from __future__ import annotations

import nbformat

import json
import re
from pathlib import Path

SUBMISSIONS = Path(__file__).resolve().parent.parent / "submissions"

# The notebook's markdown, as the student downloads it, between the code cells (written for these tests).
MARKDOWN = [
    """# Gradient Checking

Welcome to this week's assignment. You are part of a team building a model that decides whether a
payment is fraudulent, and the backward pass of that model has to be right: a wrong gradient trains
quietly into a wrong model, and nobody notices until the losses are real. Your manager wants a proof
that backpropagation is implemented correctly, and gradient checking gives you that proof.

By the end of this notebook you will be able to:

- implement a one-dimensional gradient check and read what its difference says,
- implement the N-dimensional gradient check on a three-layer network,
- find and fix the bugs that the check reveals in a backward pass.

Let's get started. Run the cell below to import the packages you need.""",
    """## 1 - How does gradient checking work?

Backpropagation computes the gradients $\\frac{\\partial J}{\\partial \\theta}$, where $\\theta$ denotes the
parameters of the model and $J$ is computed with forward propagation and your loss function. Because
forward propagation is easy to implement, you can be fairly confident it is right, and use the code
that computes $J$ to verify the code that computes its derivative.

The definition of a derivative (or gradient) is:

$$ \\frac{\\partial J}{\\partial \\theta} = \\lim_{\\varepsilon \\to 0} \\frac{J(\\theta + \\varepsilon) - J(\\theta - \\varepsilon)}{2 \\varepsilon} $$

Here is what you know:

- $\\frac{\\partial J}{\\partial \\theta}$ is what you want to make sure you are computing correctly.
- You can compute $J(\\theta + \\varepsilon)$ and $J(\\theta - \\varepsilon)$ when $\\theta$ is a real number,
  since you are confident your implementation of $J$ is correct.

Use the definition with a small value of $\\varepsilon$ to approximate the derivative.""",
    """## 2 - The three-layer network

The figure below describes the forward and backward propagation of the fraud detection model:
LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID. The cache holds every intermediate value the
backward pass needs. Read the forward pass first: the cost is the cross-entropy of the sigmoid output
against the labels, averaged over the $m$ examples.""",
    """### Exercise 1 - backward_propagation_n

Implement the backward propagation of the model. Each gradient has the shape of the parameter it belongs
to; the bias gradients keep their column shape, so sum over the examples with `keepdims=True`. Remember
that each weight gradient is averaged over the $m$ examples of the batch.

**Instructions**: compute `dZ3` from the output, then go back layer by layer. The derivative of ReLU is 1
where its input was positive and 0 elsewhere.""",
    """### How to read the difference

Compute the relative difference between the gradient from backpropagation and its approximation:

$$ difference = \\frac {\\| grad - gradapprox \\|_2}{\\| grad \\|_2 + \\| gradapprox \\|_2 } $$

You need three steps to compute it:

1. compute the numerator with `np.linalg.norm(...)`,
2. compute the denominator: call `np.linalg.norm(...)` twice,
3. divide them.

If the difference is small (less than $2 \\times 10^{-7}$), you can be confident that the gradient was computed
correctly. Otherwise, there may be a mistake in the gradient computation.""",
    """### Exercise 2 - gradient_check_n

Implement the N-dimensional gradient check. `parameters` is a dictionary: convert it to a vector with
`dictionary_to_vector` and back with `vector_to_dictionary` (given in `gc_utils`). For each parameter:

- to compute `J_plus[i]`: set $\\theta^{+}$ to `np.copy(parameters_values)`, nudge its $i$-th entry by
  $+\\varepsilon$, and run `forward_propagation_n` on `vector_to_dictionary(thetaplus)`;
- to compute `J_minus[i]`: do the same with $\\theta^{-}$;
- estimate the gradient: $gradapprox[i] = \\frac{J^{+}_i - J^{-}_i}{2 \\varepsilon}$.

Then compare `gradapprox` to the gradient vector from backpropagation.

**Expected output**: a message that your backward propagation works perfectly fine, with a difference
below $2 \\times 10^{-7}$. If you see a larger difference, go back to `backward_propagation_n` and look for
the bug: the checker tells you that something is wrong, not where.""",
    """**Congratulations**, you can be confident that your deep learning model for fraud detection is working
correctly! You can even use this to convince your CEO. :)

**What you should remember from this notebook**:

- Gradient checking verifies closeness between the gradients from backpropagation and the numerical
  approximation of the gradient (computed using forward propagation).
- Gradient checking is slow, so you don't want to run it in every iteration of training. You would
  usually run it only to make sure your code is correct, then turn it off and use backprop for the
  actual learning process.
- Gradient checking doesn't work with dropout: run it without dropout, then add dropout.""",
]


# The notebook's one-dimensional warm-up, as a student fills it in, with its own markdown.
ONE_D = [
    ("""## 3 - One-dimensional gradient checking

Consider a one-dimensional linear function $J(\\theta) = \\theta x$. The model contains only a single
real-valued parameter $\\theta$, and takes $x$ as input. You will implement code to compute $J(.)$ and its
derivative $\\frac{\\partial J}{\\partial \\theta}$, then use gradient checking to make sure your derivative
computation for $J$ is correct.

The key computation steps are the forward pass, which computes $J$ ("forward propagation"), and the
backward pass, which computes the derivative ("backward propagation").

### Exercise 3 - forward_propagation

Implement `forward_propagation()` for this simple function.""",
     "def forward_propagation(x, theta):\n    J = theta * x\n    return J"),
    ("""### Exercise 4 - backward_propagation

Now, implement the backward propagation step (derivative computation): compute the derivative of
$J(\\theta) = \\theta x$ with respect to $\\theta$. To save you from doing the calculus, you should get
$d\\theta = \\frac { \\partial J }{ \\partial \\theta} = x$.""",
     "def backward_propagation(x, theta):\n    dtheta = x\n    return dtheta"),
    ("""### Exercise 5 - gradient_check

To show that `backward_propagation()` computes the gradient correctly, implement gradient checking:

1. compute `gradapprox` using the formula above with a small value of $\\varepsilon$:
   $\\theta^{+} = \\theta + \\varepsilon$, $\\theta^{-} = \\theta - \\varepsilon$, $J^{+} = J(\\theta^{+})$,
   $J^{-} = J(\\theta^{-})$, $gradapprox = \\frac{J^{+} - J^{-}}{2 \\varepsilon}$;
2. compute the gradient using backward propagation, and store the result in a variable `grad`;
3. compute the relative difference between `gradapprox` and `grad` with the formula of section 2.

If the difference is small (say less than $10^{-7}$), you can be quite confident that you have computed
your gradient correctly. Otherwise, there may be a mistake in it.""",
     "def gradient_check(x, theta, epsilon=1e-7, print_msg=False):\n"
     "    theta_plus = theta + epsilon\n    theta_minus = theta - epsilon\n"
     "    J_plus = forward_propagation(x, theta_plus)\n    J_minus = forward_propagation(x, theta_minus)\n"
     "    gradapprox = (J_plus - J_minus) / (2 * epsilon)\n\n    grad = backward_propagation(x, theta)\n\n"
     "    numerator = np.linalg.norm(grad - gradapprox)\n"
     "    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)\n"
     "    difference = numerator / denominator\n\n    if print_msg:\n        if difference > 2e-7:\n"
     "            print(\"There is a mistake in the backward propagation! difference = \" + str(difference))\n"
     "        else:\n            print(\"Your backward propagation works perfectly fine! difference = \" + str(difference))\n"
     "    return difference"),
    ("""**Expected output**: the difference printed for $x = 3$, $\\theta = 4$ is below $2 \\times 10^{-7}$.

Congrats, the difference is smaller than the threshold, so you can have high confidence that you've
correctly computed the gradient in `backward_propagation()`.

Now, in the more general case, your cost function $J$ has more than a single 1D input. When you are
training a neural network, $\\theta$ actually consists of multiple matrices $W^{[l]}$ and biases $b^{[l]}$!
It is important to know how to do a gradient check with higher-dimensional inputs. Let's do it!""",
     "x, theta = 3, 4\ndifference = gradient_check(x, theta, print_msg=True)"),
]


N_DIMENSIONAL = """### How does the N-dimensional check work?

As in sections 1 and 3, you want to compare `gradapprox` to the gradient computed by backpropagation. The
formula is still:

$$ \\frac{\\partial J}{\\partial \\theta} = \\lim_{\\varepsilon \\to 0} \\frac{J(\\theta + \\varepsilon) - J(\\theta - \\varepsilon)}{2 \\varepsilon} $$

However, $\\theta$ is not a scalar anymore. It is a dictionary called `parameters`. The function
`dictionary_to_vector()` converts the `parameters` dictionary into a vector called `values`, obtained by
reshaping every parameter ($W^{[1]}$, $b^{[1]}$, $W^{[2]}$, $b^{[2]}$, $W^{[3]}$, $b^{[3]}$) into a column
and concatenating the columns. The inverse function is `vector_to_dictionary`, which gives back the
`parameters` dictionary. The gradients dictionary is converted into a vector `grad` the same way with
`gradients_to_vector()`; you don't need to worry about that one.

Note: the order of the entries matters. The vector of parameters and the vector of gradients must list
the same parameters in the same order, or the comparison means nothing: the helpers take care of it for
$W$ and $b$, and they skip the intermediate values (`dZ3`, `dA2`, ...) that the gradients dictionary also
holds.

A word on the value of $\\varepsilon$: too large and the central difference is a poor approximation of the
derivative; too small and the subtraction $J^{+} - J^{-}$ loses most of its digits to rounding. With the
double precision numbers numpy uses, $10^{-7}$ is a good compromise for a cost of order one, which is why
the notebook uses it. The difference you get on a correct backward pass is then around $10^{-8}$ to
$10^{-7}$; a wrong gradient typically gives a difference above $10^{-3}$, several orders of magnitude
away. Anything in between deserves a second look: a gradient that is right except for one entry, or a
cost whose scale makes the approximation coarser than usual.

Finally, remember that gradient checking looks at a single point: a bug that only shows when an
activation is exactly zero (the kink of ReLU) can hide at a random point and appear at another one. When
you suspect such a bug, run the check on several random initialisations before you trust your code."""


def functions() -> dict[str, str]:
    """The sample class's correct submission, function by function (its imports under "imports")."""
    text = (SUBMISSIONS / "correct_course_style.py").read_text()
    parts = re.split(r"\n(?=def )", text)
    found = {"imports": "\n".join(line for line in parts[0].splitlines() if line.startswith(("import", "from")))}
    for part in parts[1:]:
        found[part.split("(")[0][4:]] = part.strip("\n")
    return found


def code_cells() -> list[str]:
    """The code cells of the course notebook as a student fills it in, in order."""
    parts = functions()
    return [parts["imports"],
            parts["forward_propagation_n"],
            parts["backward_propagation_n"],
            "cache = None  # the notebook builds its test case here\nprint('backward_propagation_n defined')",
            parts["gradient_check_n"],
            "X, Y, parameters = None, None, None\n# difference = gradient_check_n(parameters, gradients, X, Y, 1e-7)"]


def _commented(markdown: str) -> list[str]:
    return ["# " + line if line else "#" for line in markdown.splitlines()] + ["", ""]


def nbconvert_export(*, header: str = "# coding: utf-8") -> str:
    """The course notebook exported with `jupyter nbconvert --to script`: markdown as comments, `# In[n]:`
    markers, the one-dimensional warm-up first, then the three-layer network."""
    out = ["#!/usr/bin/env python", header, ""]
    cells = code_cells()
    out += _commented(MARKDOWN[0]) + ["# In[1]:", "", "", cells[0], "", ""] + _commented(MARKDOWN[1])
    number = 1
    for markdown, code in ONE_D:
        number += 1
        out += _commented(markdown) + [f"# In[{number}]:", "", "", code, "", ""]
    for index, code in enumerate(cells[1:], start=2):
        number += 1
        out += (_commented(MARKDOWN[index]) if index < len(MARKDOWN) - 1 else []) + [f"# In[{number}]:", "", "", code, "", ""]
    out += _commented(N_DIMENSIONAL) + _commented(MARKDOWN[-1])
    return "\n".join(out) + "\n"


def hand_written(*, note: str = "# Gradient checking, week 5") -> str:
    """A .py a student wrote in an editor: a header comment, the imports, one function after another."""
    parts = functions()
    return "\n\n\n".join([note + "\n" + parts["imports"], parts["forward_propagation_n"],
                          parts["backward_propagation_n"], parts["gradient_check_n"]]) + "\n"


def with_tab_error(text: str) -> str:
    """text with one line of gradient_check_n's loop indented by a tab: a TabError in that function alone."""
    line = "        thetaplus = np.copy(parameters_values)"
    assert line in text
    return text.replace(line, "\tthetaplus = np.copy(parameters_values)", 1)


def two_space(code: str) -> str:
    """Code re-indented with 2 spaces a level, as Colab's editor writes it."""
    return "\n".join(re.sub(r"^((?:    )+)", lambda match: "  " * (len(match.group(1)) // 4), line)
                     for line in code.splitlines())


def colab_notebook() -> bytes:
    """A notebook as Colab saves it: 2-space indents in code and JSON, cell ids in metadata, Colab's keys."""
    cells = []
    for number, code in enumerate(code_cells()):
        cells.append({"cell_type": "markdown", "metadata": {"id": f"md{number:04d}Xq"},
                      "source": MARKDOWN[number].splitlines(keepends=True)} if number < len(MARKDOWN) else None)
        cells.append({"cell_type": "code", "execution_count": number + 1,
                      "metadata": {"id": f"cd{number:04d}Zk", "colab": {"base_uri": "https://localhost:8080/"},
                                   "outputId": f"out{number:04d}"},
                      "outputs": [{"name": "stdout", "output_type": "stream", "text": ["ok\n"]}],
                      "source": two_space(code).splitlines(keepends=True)})
    document = {"nbformat": 4, "nbformat_minor": 0,
                "metadata": {"colab": {"provenance": [], "name": "Gradient_Checking.ipynb",
                                       "collapsed_sections": []},
                             "kernelspec": {"name": "python3", "display_name": "Python 3"},
                             "language_info": {"name": "python"}, "accelerator": "GPU", "gpuClass": "standard"},
                "cells": [cell for cell in cells if cell is not None]}
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")


def signed(text: str, *, declared: str | None) -> str:
    """text with a student's accented name and a French comment, and a coding line when declared."""
    note = ("# Zoë Müller, groupe B: j'ai vérifié le résultat au café\n"
            "# “gradient check” fait — coût 5 €\n")
    coding = f"# -*- coding: {declared} -*-\n" if declared else ""
    return coding + note + text.replace("print(\"\\033[92m\" + \"Your", "print(\"\\033[92m\" + \"Très bien! Your")


def shapes() -> dict[str, tuple[bytes, float]]:
    """Each fixture's file name -> (its bytes, the score out of 10 its content deserves)."""
    export = nbconvert_export()
    plain = hand_written()
    return {
        "colab_two_space.ipynb": (colab_notebook(), 10.0),
        "windows_crlf.py": (export.replace("\n", "\r\n").encode(), 10.0),
        "classic_mac_cr.py": (plain.replace("\n", "\r").encode(), 10.0),
        "utf8_bom.py": (b"\xef\xbb\xbf" + signed(export, declared=None).encode(), 10.0),
        "latin1_declared.py": (signed(plain, declared="latin-1").replace("“", '"').replace("”", '"')
                               .replace("—", "-").replace("€", "EUR").encode("latin-1"), 10.0),
        "cp1252_declared.py": (signed(plain, declared="cp1252").encode("cp1252"), 10.0),
        "powershell_utf16.py": (signed(export, declared=None).encode("utf-16"), 10.0),
        "utf16_bom.ipynb": (colab_notebook().decode().encode("utf-16"), 10.0),
        "tab_error.py": (with_tab_error(plain).encode(), 6.0),
        "tab_error_cr.py": (with_tab_error(plain).replace("\n", "\r").encode(), 6.0),
    }


def notebook(*cells: str, minor: int = 4) -> bytes:
    """A notebook with these code cells (a cell starting with '# md ' becomes markdown)."""
    book = nbformat.v4.new_notebook()
    for cell in cells:
        book.cells.append(nbformat.v4.new_markdown_cell(cell[5:]) if cell.startswith("# md ")
                          else nbformat.v4.new_code_cell(cell))
    book.nbformat_minor = minor
    if minor < 5:
        for cell in book.cells:
            cell.pop("id", None)  # cell ids arrived with v4.5
    return nbformat.writes(book).encode()
