"""The modular-layers course's `cs231n` package, as its students' files import it (runs inside the sandbox).

Only what a layers.py or a notebook that defines the layers imports: im2col, fast_layers, gradient_check,
and an empty layers module (a notebook's `from cs231n.layers import *` then leaves its own cells' layers).
"""
