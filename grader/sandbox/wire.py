"""The sandbox's wire format: values as a JSON outline plus raw array bytes, and framed messages.

The outline is the value itself where JSON has the type (None, bools, numbers, strings, str-keyed dicts)
and a tagged list elsewhere (lists, tuples, arrays, anything else): JSON's own C code does most of the
work, which a result of a dozen small arrays sends and reads about twice as fast as with a tagged object
per value.

Nothing is cut on the way: strings travel whole at any length, and what the grader sends is encoded
exactly (encode(..., exact=True) refuses what would not arrive as itself). Only the repr of a value that
is not data is clipped, and clip leaves a note of the whole size in the text, which the grader reports.

Nothing here unpickles: an array travels as its raw bytes with its dtype and shape in the outline; the
reader accepts only plain numeric dtypes (bool, int, unsigned, float, complex), checks that the byte
count matches the shape, and rebuilds it with np.frombuffer, which cannot run code. Everything else is
JSON. Frames carry a per-run nonce and a SHA-256 of their payload, so bytes a submission writes to a
stray descriptor are skipped by the reader instead of being taken for a result. Imports nothing of
gradgrade's: the child process uses it too.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

MAGIC = b"GRADGRD2"  # the format's version: 2 has the outline of plain JSON and tagged lists
NONCE_BYTES = 16
_HEADER = struct.Struct(">Q32s")  # payload length, sha256 of the payload
NUMERIC_KINDS = "biufc"
MAX_DEPTH = 32
_DTYPE = re.compile(r"^[<>|=][biufc][0-9]{1,2}$")
# The key of {REF_MARKER: [call, item]}: an argument that is what an earlier call of the run returned.
REF_MARKER = "__gradgrade_ref__"


REPR_LIMIT = 200  # characters of an opaque value's repr that cross the wire


@dataclass(frozen=True)
class Opaque:
    """A value the child could not send as data: its type name and a short repr; size is the length of
    the whole repr when the text is cut (clip says so in the text too), 0 when the text is all of it."""

    type_name: str
    text: str
    size: int = 0

    @property
    def cut(self) -> bool:
        return self.size > 0


def clip(text: str, most: int) -> str:
    """text, or its first `most` characters followed by a note of how much was left out: nothing cut
    in gradgrade's messages goes unsaid."""
    if len(text) <= most:
        return text
    return f"{text[:most]}... [cut: {most:,} of {len(text):,} characters shown]"


def clipped_size(text: str) -> tuple[int, int] | None:
    """(shown, whole) in characters when clip cut text, None otherwise."""
    found = _CLIP_NOTE.search(text)
    return None if found is None else (int(found[1].replace(",", "")), int(found[2].replace(",", "")))


_CLIP_NOTE = re.compile(r"\.\.\. \[cut: ([0-9,]+) of ([0-9,]+) characters shown\]")


class WireError(ValueError):
    """Bytes that do not decode as gradgrade's wire format."""


_BOOLS = (bool, np.bool_)
_NUMBERS = (int, np.integer, float, np.floating)


def one_number(value: Any) -> float | None:
    """value as one number, the same before encoding and after decoding: a number, a size-1 array of
    numbers, or a list or tuple whose first item is one; a bool is not a number. None otherwise.

    The grader reads a checker's difference with it, and the child its condition for running a call.
    """
    if value is None or isinstance(value, _BOOLS):
        return None
    if isinstance(value, _NUMBERS):
        return float(value)
    if type(value) is np.ndarray and value.dtype.kind in "biuf" and value.size == 1:
        return float(value.reshape(-1)[0])
    if type(value) in (list, tuple) and value:
        return one_number(value[0])
    return None


def _outline(value: Any, chunks: list[bytes], depth: int, exact: bool) -> Any:
    """value as JSON data: None, bools, numbers and strings (whole, at any length) as themselves, a
    str-keyed dict as an object, and the rest as a list tagged by its first item: ["l", items...] a list,
    ["t", items...] a tuple, ["a", index, dtype, shape] a numeric array (its bytes are chunks[index]),
    ["o", type, repr] or ["o", type, clipped repr, whole repr's length] anything else. Exact types first:
    a result is mostly plain floats, dicts and arrays.

    exact: raise WireError for anything that would not arrive as itself (the grader's jobs), instead of
    sending a description of it (the child's results)."""
    kind = type(value)
    if kind is float or kind is int or kind is bool or kind is str or value is None:
        return value
    if kind is _ndarray and value.dtype.kind in NUMERIC_KINDS:
        chunks.append(value.tobytes())  # C order whatever the array's own layout, even 0-d
        return ["a", len(chunks) - 1, value.dtype.str, list(value.shape)]
    if kind is dict or kind is list or kind is tuple:
        if depth > MAX_DEPTH:
            if exact:
                raise WireError(f"a value nested deeper than {MAX_DEPTH} levels cannot be sent")
            return ["o", kind.__name__, "nested too deeply"]
        if kind is dict:
            if exact and not all(type(key) is str for key in value):
                raise WireError("a dict with keys other than strings cannot be sent")
            return {key: _outline(item, chunks, depth + 1, exact) for key, item in value.items()
                    if type(key) is str}
        return [_TAGS[kind], *[_outline(item, chunks, depth + 1, exact) for item in value]]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if exact:
        raise WireError(f"a value of type {kind.__name__} cannot be sent as data")
    try:
        text = repr(value)
    except BaseException:
        text = "<repr failed>"
    if len(text) > REPR_LIMIT:
        return ["o", kind.__name__, clip(text, REPR_LIMIT), len(text)]
    return ["o", kind.__name__, text]


_TAGS = {list: "l", tuple: "t"}
_ndarray = np.ndarray
# An outline is built fresh by _outline, depth-limited, and so never circular: no need to check it for
# cycles (a third of json.dumps's time on a result of a dozen arrays).
_OUTLINE_ENCODER = json.JSONEncoder(check_circular=False)


def encode(value: Any, *, exact: bool = False) -> bytes:
    """Serialise nested None/bool/int/float/str/numeric arrays/lists/tuples/str-keyed dicts, strings whole.

    exact=True (what the grader sends the child): every part arrives as itself or WireError is raised;
    otherwise (what the child sends back) anything else arrives as an Opaque, its repr clipped."""
    raws: list[bytes] = []
    outline = _OUTLINE_ENCODER.encode(_outline(value, raws, 0, exact)).encode()
    chunks = [struct.pack(">II", len(outline), len(raws)), outline]
    for raw in raws:
        chunks += [struct.pack(">Q", len(raw)), raw]
    return b"".join(chunks)


def _rebuild(node: Any, arrays: list[memoryview]) -> Any:
    kind = type(node)
    if kind is dict:  # JSON's keys are strings
        return {key: _rebuild(item, arrays) for key, item in node.items()}
    if kind is not list:
        return node  # None, a bool, a number or a string
    tag = node[0] if node else None
    if tag == "l":
        return [_rebuild(item, arrays) for item in node[1:]]
    if tag == "t":
        return tuple([_rebuild(item, arrays) for item in node[1:]])
    if tag == "a" and len(node) == 4:
        index = node[1]
        if type(index) is not int or not 0 <= index < len(arrays):
            raise WireError(f"array index {str(index)[:20]} is not one of the message's {len(arrays)} arrays")
        return _array(arrays[index], node[2], node[3])
    if tag == "o" and len(node) == 3:
        return Opaque(str(node[1]), str(node[2]))
    if tag == "o" and len(node) == 4 and type(node[3]) is int and node[3] >= 0:
        return Opaque(str(node[1]), str(node[2]), node[3])
    raise WireError(f"unknown value kind {str(tag)[:20]!r}")


@functools.lru_cache(maxsize=64)
def _numeric_dtype(text: str) -> np.dtype:
    """The dtype a plain numeric dtype string names (checked once per string: decoding meets a few, often)."""
    if not _DTYPE.match(text):
        raise WireError(f"array dtype {text[:20]!r} is not a plain numeric dtype")
    dtype = np.dtype(text)
    if dtype.kind not in NUMERIC_KINDS or dtype.hasobject:
        raise WireError(f"array of dtype {dtype} is not numeric")
    return dtype


def _array(raw: memoryview, dtype_text: Any, shape: Any) -> np.ndarray:
    """An array from its raw bytes, after checking that dtype and shape describe exactly those bytes."""
    if not isinstance(dtype_text, str):
        raise WireError(f"array dtype {str(dtype_text)[:20]!r} is not a plain numeric dtype")
    dtype = _numeric_dtype(dtype_text)
    if type(shape) is not list or len(shape) > 32:
        raise WireError("array shape is not a list of non-negative integers")
    size = 1
    for n in shape:
        if type(n) is not int or n < 0:
            raise WireError("array shape is not a list of non-negative integers")
        size *= n
    if size * dtype.itemsize != len(raw):
        raise WireError(f"array of shape {tuple(shape)} and dtype {dtype} does not fit its {len(raw)} bytes")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def decode(data: bytes) -> Any:
    """The inverse of encode; raises WireError on anything malformed."""
    try:
        outline_size, count = struct.unpack_from(">II", data, 0)
        offset = 8
        outline = json.loads(data[offset:offset + outline_size])
        offset += outline_size
        view = memoryview(data)
        arrays: list[memoryview] = []
        for _ in range(count):
            (size,) = struct.unpack_from(">Q", data, offset)
            offset += 8
            if offset + size > len(data):
                raise WireError("array bytes cut short")
            arrays.append(view[offset:offset + size])
            offset += size
        return _rebuild(outline, arrays)
    except WireError:
        raise
    except Exception as error:
        raise WireError(f"malformed message: {error}") from None


def frame(payload: bytes, nonce: bytes) -> bytes:
    """One message on the result channel: magic, nonce, length, digest, payload."""
    return MAGIC + nonce + _HEADER.pack(len(payload), hashlib.sha256(payload).digest()) + payload


class FrameReader:
    """Frames taken from a stream as it arrives, in linear time, skipping bytes that are not frames.

    Bytes before a frame's marker are dropped as soon as they are seen, so a flood of garbage costs
    no memory; only a frame still arriving is buffered, up to max_frame bytes.
    """

    def __init__(self, nonce: bytes, *, max_frame: int) -> None:
        self.marker = MAGIC + nonce
        self.max_frame = max_frame
        self.buffer = bytearray()
        self.skipped = 0

    def feed(self, data: bytes) -> list[bytes]:
        """The payloads of the frames completed by data, in order."""
        self.buffer += data
        payloads = []
        while True:
            start = self.buffer.find(self.marker)
            if start < 0:
                keep = len(self.marker) - 1
                self.skipped += max(0, len(self.buffer) - keep)
                del self.buffer[:max(0, len(self.buffer) - keep)]
                return payloads
            self.skipped += start
            del self.buffer[:start]
            header_at = len(self.marker)
            if len(self.buffer) < header_at + _HEADER.size:
                return payloads
            size, digest = _HEADER.unpack_from(self.buffer, header_at)
            end = header_at + _HEADER.size + size
            if size > self.max_frame:
                del self.buffer[:1]
                continue
            if len(self.buffer) < end:
                return payloads
            payload = bytes(self.buffer[header_at + _HEADER.size:end])
            if hashlib.sha256(payload).digest() == digest:
                payloads.append(payload)
                del self.buffer[:end]
            else:
                del self.buffer[:1]
