"""Empty on purpose: a notebook that defines the layers in its own cells still imports `from cs231n.layers
import *` first, and must keep its own definitions."""
