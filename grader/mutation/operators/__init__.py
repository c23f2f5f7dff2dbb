"""Mutation operators: small pure functions over Python's ast that plant one known backprop bug each."""
# Importing a family registers its operators, and REGISTRY keeps that order, which is the catalogue's
# order and numbering. The planted operators (scale) come first, so when another operator makes the
# same gradients, the planted one is the original and the other the duplicate.
from grader.mutation.operators import scale, sign, arithmetic, mask, swap, routing  # noqa: F401
from grader.mutation.operators import transpose, matmul, reduction, zero, nan, loop  # noqa: F401
# Operators for any numpy loss (spec assignments); none applies to the built-ins, whose numbering stays.
from grader.mutation.operators import terms  # noqa: F401
