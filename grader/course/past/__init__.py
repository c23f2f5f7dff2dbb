"""The `past` compatibility package (from the `future` project), as Python 2 era course files import it."""
