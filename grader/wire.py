"""The sandbox's wire format: values as a JSON outline plus raw array bytes, and framed messages.

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

MAGIC = b"GRADGRD1"
NONCE_BYTES = 16
_HEADER = struct.Struct(">Q32s")  # payload length, sha256 of the payload
NUMERIC_KINDS = "biufc"
MAX_DEPTH = 32
_DTYPE = re.compile(r"^[<>|=][biufc][0-9]{1,2}$")
# The key of {REF_MARKER: [call, item]}: an argument that is what an earlier call of the run returned.
REF_MARKER = "__gradgrade_ref__"


@dataclass(frozen=True)
class Opaque:
    """A value the child could not send as data: its type name and a short repr."""

    type_name: str
    text: str


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


def _outline(value: Any, chunks: list[bytes], depth: int) -> Any:
    if depth > MAX_DEPTH:
        return {"t": "opaque", "type": type(value).__name__, "repr": "nested too deeply"}
    if type(value) is np.ndarray and value.dtype.kind in NUMERIC_KINDS:
        chunks.append(value.tobytes())  # C order whatever the array's own layout, even 0-d
        return {"t": "array", "i": len(chunks) - 1, "d": value.dtype.str, "s": list(value.shape)}
    if value is None:
        return {"t": "none"}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, (int, np.integer)):
        return {"t": "int", "v": str(int(value))}
    if isinstance(value, (float, np.floating)):
        return {"t": "float", "v": repr(float(value))}
    if isinstance(value, str):
        return {"t": "str", "v": value[:10_000]}
    if type(value) in (list, tuple):
        return {"t": type(value).__name__, "v": [_outline(item, chunks, depth + 1) for item in value]}
    if type(value) is dict:
        items = [[key, _outline(item, chunks, depth + 1)] for key, item in value.items() if type(key) is str]
        return {"t": "dict", "v": items}
    try:
        text = repr(value)[:200]
    except BaseException:
        text = "<repr failed>"
    return {"t": "opaque", "type": type(value).__name__, "repr": text}


# An outline is built fresh by _outline, depth-limited, and so never circular: no need to check it for
# cycles (a third of json.dumps's time on a result of a dozen arrays).
_OUTLINE_ENCODER = json.JSONEncoder(check_circular=False)


def encode(value: Any) -> bytes:
    """Serialise nested None/bool/int/float/str/numeric arrays/lists/tuples/str-keyed dicts."""
    raws: list[bytes] = []
    outline = _OUTLINE_ENCODER.encode(_outline(value, raws, 0)).encode()
    chunks = [struct.pack(">II", len(outline), len(raws)), outline]
    for raw in raws:
        chunks += [struct.pack(">Q", len(raw)), raw]
    return b"".join(chunks)


def _rebuild(node: Any, arrays: list[memoryview]) -> Any:
    kind = node["t"]
    if kind == "none":
        return None
    if kind in ("bool", "str"):
        return node["v"]
    if kind == "int":
        return int(node["v"])
    if kind == "float":
        return float(node["v"])
    if kind == "array":
        return _array(arrays[node["i"]], node.get("d"), node.get("s"))
    if kind in ("list", "tuple"):
        items = [_rebuild(item, arrays) for item in node["v"]]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {str(key): _rebuild(item, arrays) for key, item in node["v"]}
    if kind == "opaque":
        return Opaque(str(node["type"]), str(node["repr"]))
    raise WireError(f"unknown value kind {kind!r}")


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
