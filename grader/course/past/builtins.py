"""Python 2 names that `from past.builtins import ...` gives: each the Python 3 equivalent."""
from functools import reduce  # noqa: F401

xrange = range
basestring = str
unicode = str
long = int
raw_input = input
