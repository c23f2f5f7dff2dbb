"""Numerics: the pure numerical core, numpy only, no I/O.

Receives arrays and callables; hands on central-difference gradients, relative differences and
per-parameter verdicts (check), and exact or fast checks of large networks (large).
"""
