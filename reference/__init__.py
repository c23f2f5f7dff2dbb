"""Reference implementations of the assignments gradgrade grades, one module per assignment.

Every assignment module provides: NAME, TITLE, BACKWARD (the student function graded), FORWARD and
CHECKER (names, or None), BACKWARD_ARG_NAMES, PARAMETER_NAMES, GRADIENT_NAMES;
cases(profile="course"|"square") -> list[Case]; backward_args(case) -> tuple;
batched_cost(case) -> callable on parameters with a leading batch axis;
reference_gradients(case) -> dict of the gradients named in GRADIENT_NAMES.
"""
