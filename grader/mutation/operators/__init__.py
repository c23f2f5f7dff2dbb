"""Mutation operators: small pure functions over Python's ast that plant one known backprop bug each."""
# Importing a family registers its operators, and REGISTRY keeps that order, which is the catalogue's
# order and numbering. The planted operators (scale) come first, so when another operator makes the
# same gradients, the planted one is the original and the other the duplicate.
from grader.mutation.operators import scale, sign, arithmetic, mask, swap, routing  # noqa: F401
from grader.mutation.operators import transpose, matmul, reduction, zero, nan, loop  # noqa: F401
# The layer and classifier families, then the operators for any numpy loss (spec assignments). None of them
# adds a site to the course's built-in backward passes, so the built-ins' catalogues keep their numbering.
# The domain families come before the generic terms: where both make the same mutant (the softmax's
# `-= 1` dropped), the domain one is the original and diagnosis names its misconception.
from grader.mutation.operators import windows, normalisation, losses  # noqa: F401
from grader.mutation.operators import terms  # noqa: F401
