"""The sandbox's wire format: values round-trip as data, nothing unpickles, garbage never becomes a frame."""
from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from grader import wire

NONCE = bytes(range(wire.NONCE_BYTES))


@pytest.mark.parametrize("value", [
    pytest.param(None, id="none"),
    pytest.param({"dW1": np.arange(20.0).reshape(5, 4), "db1": np.zeros((5, 1))}, id="gradients"),
    pytest.param((1, 2.5, "x", True, [np.int64(3)]), id="tuple"),
    pytest.param(np.array([[1 + 2j]]), id="complex"),
    pytest.param(np.zeros((0, 3), dtype=np.float32), id="empty"),
    pytest.param(np.arange(6, dtype=">i4").reshape(2, 3), id="big-endian"),
    pytest.param(np.asfortranarray(np.arange(6.0).reshape(2, 3)), id="fortran-order"),
    pytest.param(np.array(True), id="0-d-bool"),
])
def test_values_round_trip(value):
    got = wire.decode(wire.encode(value))
    if isinstance(value, np.ndarray):
        assert got.dtype == value.dtype and got.shape == value.shape and np.array_equal(got, value)
        assert got.flags.writeable
    elif isinstance(value, dict):
        assert got.keys() == value.keys() and all(np.array_equal(got[k], value[k]) for k in value)
    elif isinstance(value, tuple):
        assert got == (1, 2.5, "x", True, [3])
    else:
        assert got == value


class Liar:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value, type_name", [
    pytest.param(Liar(), "Liar", id="liar"),
    pytest.param(np.array([Liar()], dtype=object), "ndarray", id="object-array"),
    pytest.param(np.zeros(2).view(np.matrix), "matrix", id="ndarray-subclass"),
    pytest.param(type("Oracle", (dict,), {})(a=1), "Oracle", id="dict-subclass"),
    pytest.param(np.array(["a"]), "ndarray", id="string-array"),
])
def test_anything_else_arrives_as_an_opaque_description(value, type_name):
    got = wire.decode(wire.encode(value))
    assert isinstance(got, wire.Opaque) and got.type_name == type_name


def forged(outline: dict, raw: bytes) -> bytes:
    text = json.dumps(outline).encode()
    return struct.pack(">II", len(text), 1) + text + struct.pack(">Q", len(raw)) + raw


@pytest.mark.parametrize("data", [
    pytest.param(forged({"t": "array", "i": 0, "d": "|O8", "s": [1]}, b"\0" * 8), id="object-dtype"),
    pytest.param(forged({"t": "array", "i": 0, "d": "f8,O", "s": [1]}, b"\0" * 16), id="structured"),
    pytest.param(forged({"t": "array", "i": 0, "d": "<f8", "s": [3]}, b"\0" * 8), id="shape-too-big"),
    pytest.param(forged({"t": "array", "i": 0, "d": "<f8", "s": [-1]}, b"\0" * 8), id="negative-shape"),
    pytest.param(forged({"t": "array", "i": 0, "d": "<f8", "s": [1.0]}, b"\0" * 8), id="float-shape"),
    pytest.param(forged({"t": "array", "i": 0, "d": "<f8", "s": 1}, b"\0" * 8), id="shape-not-a-list"),
    pytest.param(forged({"t": "array", "i": 0, "d": ["<f8"], "s": [1]}, b"\0" * 8), id="dtype-not-a-string"),
    pytest.param(forged({"t": "array", "i": 0, "d": "<U8", "s": [1]}, b"\0" * 32), id="text-dtype"),
    pytest.param(forged({"t": "array", "i": 0, "d": "<f8", "s": [1]}, b"\x80\x04N."), id="pickle-bytes"),
    pytest.param(forged({"t": "array", "i": 5, "d": "<f8", "s": [1]}, b"\0" * 8), id="bad-index"),
    pytest.param(forged({"t": "code", "v": "import os"}, b""), id="unknown-kind"),
    pytest.param(b"\xff" * 3, id="truncated"),
])
def test_malformed_messages_are_wire_errors(data):
    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_frames_survive_garbage_around_them_in_any_split():
    payloads = [wire.encode({"kind": "result", "index": i, "value": np.full((2, 2), i)}) for i in range(3)]
    noise = b"GRADGRD1" + b"\0" * 60 + b'{"status": "pass"}' + b"GRADGRD1" + bytes(wire.NONCE_BYTES)
    stream = noise + noise.join(wire.frame(payload, NONCE) for payload in payloads) + noise
    for step in (1, 7, 64, len(stream)):
        reader = wire.FrameReader(NONCE, max_frame=1 << 20)
        got = []
        for start in range(0, len(stream), step):
            got += reader.feed(stream[start:start + step])
        assert got == payloads


def test_a_frame_with_a_wrong_digest_or_nonce_is_skipped():
    payload = wire.encode({"kind": "done"})
    good = wire.frame(payload, NONCE)
    tampered = good[:-1] + bytes([good[-1] ^ 1])
    other = wire.frame(payload, bytes(wire.NONCE_BYTES))
    reader = wire.FrameReader(NONCE, max_frame=1 << 20)
    assert reader.feed(tampered + other + good) == [payload]


def test_garbage_floods_cost_no_memory():
    reader = wire.FrameReader(NONCE, max_frame=1 << 20)
    for _ in range(200):
        assert reader.feed(b"garbage " * 8192) == []
    assert len(reader.buffer) < len(reader.marker) and reader.skipped > 10_000_000


def test_a_header_claiming_a_huge_frame_is_not_waited_for():
    payload = wire.encode({"kind": "done"})
    fake = wire.MAGIC + NONCE + struct.pack(">Q32s", 1 << 40, bytes(32))
    reader = wire.FrameReader(NONCE, max_frame=1 << 20)
    assert reader.feed(fake + wire.frame(payload, NONCE)) == [payload]


@pytest.mark.parametrize("value, expected", [
    pytest.param(3e-10, 3e-10, id="float"),
    pytest.param(np.float32(0.5), 0.5, id="numpy-float32"),
    pytest.param(np.int64(2), 2.0, id="numpy-int"),
    pytest.param(np.array([[3e-10]]), 3e-10, id="one-by-one-array"),
    pytest.param([np.array(4.0), "x"], 4.0, id="list-whose-first-is-one"),
    pytest.param(((1e-3,),), 1e-3, id="nested-tuple"),
    pytest.param(True, None, id="bool"),
    pytest.param(np.bool_(True), None, id="numpy-bool"),
    pytest.param(np.zeros(2), None, id="two-entries"),
    pytest.param(np.array([1 + 2j]), None, id="complex"),
    pytest.param("1e-10", None, id="text"),
    pytest.param([], None, id="empty-list"),
])
def test_one_number_reads_a_value_the_same_before_and_after_the_wire(value, expected):
    assert wire.one_number(value) == expected
    assert wire.one_number(wire.decode(wire.encode(value))) == expected
