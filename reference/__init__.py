"""Reference implementations of the built-in assignments gradgrade grades, one spec module per assignment.

Every assignment module declares `SPEC = grader.spec.Spec(...)` in the public format new assignments use
(its Gradients, Value and Checker declarations say what grading needs), and gives its cases itself, the
course's exact public numbers and its own screened hidden ones: NAME, TITLE, BACKWARD (the function the
mutant catalogue mutates), cases(*, profile="course"|"square") -> list[cases.Case] (each with X, Y,
parameters and inputs, the mapping SPEC's callables read); for the mutation engine also
backward_args(case), batched_cost(case) and GRADIENT_NAMES or gradient_names(case). A backward pass too
small for the mutation operators lists its known bugs by hand instead: MUTANTS (id, operator, family,
misconception, expression), mutant_source(id) and mutant_gradients(id, case).
"""

# The built-in assignments, in the order gradgrade lists them, and the one graded when none is named.
BUILT_IN = ("three_layer", "l_layer", "one_d")
DEFAULT = "three_layer"

# Names the course's notebooks (and students copying between them) give each kind of graded function: a
# submission defining one of these instead of the expected name meant it, though the spelling is far.
KNOWN_NAMES = {
    "backward": ("backward_propagation", "backward_propagation_n", "back_propagation", "back_propagation_n",
                 "L_model_backward", "L_layer_backward", "backprop", "backward_pass"),
    "checker": ("gradient_check", "gradient_check_n", "grad_check", "grad_check_n", "gradient_checking"),
    "forward": ("forward_propagation", "forward_propagation_n", "L_model_forward", "L_layer_forward", "forward_pass"),
}
