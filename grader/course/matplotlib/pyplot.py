"""pyplot that draws nothing: every function accepts anything and returns a figure-like object that does the same."""
from matplotlib import rcParams  # noqa: F401


class _Nothing:
    """A figure, axes, image or line that ignores every call, attribute and index (two of it unpack from
    `fig, ax = plt.subplots()`)."""

    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __getitem__(self, index):
        return self

    def __setitem__(self, index, value):
        pass

    def __iter__(self):
        return iter((self, self))

    def __bool__(self):
        return False


_nothing = _Nothing()


def subplots(*args, **kwargs):
    return _nothing, _nothing


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _nothing
