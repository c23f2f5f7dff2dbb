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


@pytest.mark.parametrize("value", [
    pytest.param([0.1, -0.0, 1e308, 5e-324, 2 ** 80, -7, ""], id="exact-numbers"),
    pytest.param({"nested": {"list": [1, [2.5, ("x",)]], "none": None, "flag": False}}, id="nesting"),
    pytest.param(["l", "t", "a", "o"], id="strings-that-are-tags"),
    pytest.param({"": ["a", 0, "<f8", [1]]}, id="a-list-shaped-like-an-array"),
    pytest.param((), id="empty-tuple"),
    pytest.param([[], {}], id="empty-containers"),
])
def test_plain_values_round_trip_exactly(value):
    got = wire.decode(wire.encode(value))
    assert got == value and repr(got) == repr(value)  # -0.0 stays -0.0, a tuple a tuple


def test_special_floats_and_numpy_scalars_arrive_as_python_numbers():
    got = wire.decode(wire.encode([float("nan"), float("inf"), -float("inf"), np.float32(0.5), np.int64(-3),
                                   np.bool_(True), np.float64(0.1)]))
    assert np.isnan(got[0]) and got[1:3] == [float("inf"), -float("inf")]
    assert got[3:] == [0.5, -3, True, 0.1]
    assert [type(x) for x in got[3:]] == [float, int, bool, float]


def test_str_keyed_dicts_only_and_long_strings_cut():
    got = wire.decode(wire.encode({"kept": 1, 2: "dropped", ("a",): "dropped", "text": "x" * 20_000}))
    assert got == {"kept": 1, "text": "x" * 10_000}


def test_a_value_nested_past_the_limit_arrives_cut_as_an_opaque():
    value: list = [1.5]
    for _ in range(wire.MAX_DEPTH + 5):
        value = [value]
    got = wire.decode(wire.encode(value))
    depth = 0
    while isinstance(got, list):
        got, depth = got[0], depth + 1
    assert depth == wire.MAX_DEPTH + 1
    assert got == wire.Opaque("list", "nested too deeply")


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


def forged(outline: object, raw: bytes) -> bytes:
    return forged_text(json.dumps(outline), raw)


def forged_text(outline: str, raw: bytes = b"") -> bytes:
    text = outline.encode()
    return struct.pack(">II", len(text), 1) + text + struct.pack(">Q", len(raw)) + raw


@pytest.mark.parametrize("data", [
    pytest.param(forged(["a", 0, "|O8", [1]], b"\0" * 8), id="object-dtype"),
    pytest.param(forged(["a", 0, "f8,O", [1]], b"\0" * 16), id="structured"),
    pytest.param(forged(["a", 0, "<f8", [3]], b"\0" * 8), id="shape-too-big"),
    pytest.param(forged(["a", 0, "<f8", [-1]], b"\0" * 8), id="negative-shape"),
    pytest.param(forged(["a", 0, "<f8", [1.0]], b"\0" * 8), id="float-shape"),
    pytest.param(forged(["a", 0, "<f8", 1], b"\0" * 8), id="shape-not-a-list"),
    pytest.param(forged(['a', 0, ['<f8'], [1]], b"\0" * 8), id="dtype-not-a-string"),
    pytest.param(forged(["a", 0, "<U8", [1]], b"\0" * 32), id="text-dtype"),
    pytest.param(forged(["a", 0, "<f8", [1]], b"\x80\x04N."), id="pickle-bytes"),
    pytest.param(forged(["a", 5, "<f8", [1]], b"\0" * 8), id="bad-index"),
    pytest.param(forged(["a", -1, "<f8", [1]], b"\0" * 8), id="negative-index"),
    pytest.param(forged(["a", True, "<f8", [1]], b"\0" * 8), id="bool-index"),
    pytest.param(forged(["a", 0, "<f8"], b"\0" * 8), id="array-without-shape"),
    pytest.param(forged(["code", "import os"], b""), id="unknown-kind"),
    pytest.param(forged({"value": []}, b""), id="untagged-empty-list"),
    pytest.param(forged({"value": [1, 2]}, b""), id="untagged-list"),
    pytest.param(forged(["o", "Oracle"], b""), id="opaque-without-text"),
    pytest.param(forged_text("[" * 100_000 + "]" * 100_000), id="nested-past-any-stack"),
    pytest.param(forged_text('["l", ' * 100_000 + "1" + "]" * 100_000), id="tagged-lists-past-any-stack"),
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
