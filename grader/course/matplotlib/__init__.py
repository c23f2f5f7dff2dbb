"""A matplotlib that draws nothing: a graded file's plots are no part of its grade, and must not fail it."""
rcParams = {}
__version__ = "0.0-gradgrade"


def use(*args, **kwargs):
    return None
