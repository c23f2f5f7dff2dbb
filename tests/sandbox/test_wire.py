"""The sandbox's wire format: values round-trip as data, nothing unpickles, garbage never becomes a frame."""
from __future__ import annotations

import functools
import hashlib
import json
import struct

import numpy as np
import pytest

from hypothesis import HealthCheck, example, given, settings, strategies as st

from grader.sandbox import wire

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


def test_str_keyed_dicts_only_and_long_strings_whole():
    got = wire.decode(wire.encode({"kept": 1, 2: "dropped", ("a",): "dropped", "text": "x" * 20_000}))
    assert got == {"kept": 1, "text": "x" * 20_000}


@pytest.mark.parametrize("value, words", [
    pytest.param({"kept": 1, 2: "dropped"}, "keys other than strings", id="int-key"),
    pytest.param([object()], "type object", id="object"),
    pytest.param(np.array(["a"]), "type ndarray", id="string-array"),
    pytest.param(functools.reduce(lambda inner, _: [inner], range(wire.MAX_DEPTH + 2), [1.5]), "nested deeper",
                 id="too-deep"),
])
def test_exact_encoding_refuses_what_would_not_arrive_as_itself(value, words):
    # What the grader sends the child is never replaced by a description of it: it arrives, or nothing runs.
    with pytest.raises(wire.WireError, match=words):
        wire.encode(value, exact=True)


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


# --- nothing crosses the wire cut: jobs of any size up to 16 MB, results likewise, capped parts said to be ---

WIRE_LIMIT = 16 * 1024 * 1024  # the largest size every part of a job and of a result is shown to survive
SIZES = st.one_of(st.integers(0, 300), st.sampled_from([9_999, 10_000, 10_001, 65_537, WIRE_LIMIT]),
                  st.integers(0, WIRE_LIMIT))


@st.composite
def long_texts(draw, sizes=SIZES):
    """A text of a drawn length up to 16 MB, built from a drawn pattern and seed rather than character by
    character, so that large sizes cost hypothesis nothing; its last characters differ from its first."""
    size, pattern = draw(sizes), draw(st.text(min_size=1, max_size=40))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    tail = hashlib.sha256(str(seed).encode()).hexdigest()
    body = pattern * (max(0, size - len(tail)) // len(pattern) + 1)
    return (body[:max(0, size - len(tail))] + tail)[-size:] if size else ""


def small_arrays():
    dtypes = st.sampled_from(["<f8", ">f4", "<i8", "|u1", "|b1", "<c16"])
    shapes = st.lists(st.integers(0, 5), max_size=3)
    return st.builds(lambda dtype, shape, seed: np.random.default_rng(seed).integers(0, 9, size=shape).astype(dtype),
                     dtypes, shapes, st.integers(0, 2 ** 16))


def nested(leaves):
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


def plain_leaves(texts):
    return st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                     st.floats(allow_nan=False), texts, small_arrays())


def same_value(got, want) -> bool:
    """Equal as data, down to every type, array dtype and shape."""
    if isinstance(want, np.ndarray):
        return (type(got) is np.ndarray and got.dtype == want.dtype and got.shape == want.shape
                and got.tobytes() == np.ascontiguousarray(want).tobytes())
    if type(got) is not type(want):
        return False
    if isinstance(want, dict):
        return got.keys() == want.keys() and all(same_value(got[key], want[key]) for key in want)
    if isinstance(want, (list, tuple)):
        return len(got) == len(want) and all(same_value(a, b) for a, b in zip(got, want))
    return got == want or (isinstance(want, float) and got != got and want != want)


@st.composite
def jobs(draw):
    """A job as sandbox.run sends it: source, file name, course helpers, limits, nonce, and calls with
    nested arguments (in their own wire format, as a fork server's plan holds them) and bound sources."""
    texts = long_texts(st.integers(0, 2_000))
    arguments = nested(plain_leaves(texts))
    # One argument of any size up to 16 MB, deep inside the others (a dozen of them would be 200 MB a job).
    deep = st.tuples(long_texts(), arguments).map(lambda pair: {"data": [pair[1], (pair[0],)]})
    calls = draw(st.lists(st.fixed_dictionaries({
        "function": texts, "arguments": st.fixed_dictionaries({"args": st.tuples(deep, arguments),
                                                                      "kwargs": st.dictionaries(texts, arguments, max_size=2)}),
        "bind": st.dictionaries(texts, texts, max_size=2), "only_if_below": st.none() | st.tuples(
            st.integers(1, 3), st.floats(0, 1)), "own_only": st.booleans(), "reuse": st.lists(texts, max_size=2),
    }), max_size=3))
    for call in calls:
        call["payload"] = np.frombuffer(wire.encode(call.pop("arguments"), exact=True), dtype=np.uint8)
    return {"source": draw(long_texts()), "filename": draw(long_texts()), "nonce": draw(texts),
            "inject": draw(st.dictionaries(texts, texts, max_size=3)), "scratch": draw(texts),
            "limits": {"memory_bytes": 2 ** 31, "cpu_seconds": 11, "processes": False}, "calls": calls}


PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                            HealthCheck.data_too_large])


def largest(seed: int) -> str:
    """A text of exactly WIRE_LIMIT characters, not all alike (its end says which seed made it)."""
    tail = f"# end of {seed}: é∂ {hashlib.sha256(str(seed).encode()).hexdigest()}\n"
    return ("def f():\n    return 'x'\n" * (WIRE_LIMIT // 23 + 1))[:WIRE_LIMIT - len(tail)] + tail


# Every part at the largest size at once, whatever sizes hypothesis happens to draw.
LARGEST_JOB = {"source": largest(1), "filename": largest(2), "nonce": "00", "inject": {}, "scratch": "/tmp/x",
               "limits": {"memory_bytes": 2 ** 31, "cpu_seconds": 11, "processes": False},
               "calls": [{"function": "f", "bind": {}, "only_if_below": None, "own_only": False, "reuse": [],
                          "payload": np.frombuffer(wire.encode({"args": ({"data": [[1.5], (largest(3),)]},),
                                                                "kwargs": {"more": [largest(4)]}}, exact=True),
                                                   dtype=np.uint8)}]}


@PROPERTY
@given(jobs())
@example(LARGEST_JOB)
def test_every_job_crosses_the_wire_intact_at_any_size_up_to_16_mb(job):
    got = wire.decode(wire.encode(job, exact=True))
    assert same_value(got, job)
    for call, sent in zip(got["calls"], job["calls"]):  # and the arguments inside each call's payload
        assert same_value(wire.decode(call["payload"].tobytes()), wire.decode(sent["payload"].tobytes()))


@PROPERTY
@given(st.fixed_dictionaries({"kind": st.just("result"), "index": st.integers(0, 99), "status": st.just("ok"),
                              "message": long_texts(),
                              "value": st.tuples(nested(plain_leaves(long_texts(st.integers(0, 2_000)))), long_texts())
                              .map(lambda pair: {"dW1": pair[0], "notes": [pair[1]]}),
                              "mutated": st.lists(long_texts(st.integers(0, 50)), max_size=3)}))
@example({"kind": "result", "index": 0, "status": "ok", "message": largest(5), "mutated": [largest(6)],
          "value": {"dW1": [np.ones((5, 4))], "notes": [largest(7)]}})
def test_every_result_crosses_the_wire_intact_at_any_size_up_to_16_mb(message):
    assert same_value(wire.decode(wire.encode(message)), message)


class Talkative:
    """A value that is not data, whose repr is as long as the test asks."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


@PROPERTY
@given(long_texts())
def test_an_opaque_value_arrives_whole_or_says_it_was_cut_and_from_what_size(text):
    got = wire.decode(wire.encode({"value": [Talkative(text)]}))["value"][0]
    assert isinstance(got, wire.Opaque) and got.type_name == "Talkative"
    if len(text) <= wire.REPR_LIMIT:
        assert (got.text, got.size, got.cut) == (text, 0, False)
    else:
        assert got.cut and got.size == len(text) and got.text.startswith(text[:wire.REPR_LIMIT])
        assert wire.clipped_size(got.text) == (wire.REPR_LIMIT, len(text))
        assert f"{len(text):,} characters" in got.text


@given(long_texts(st.integers(0, 100_000)), st.integers(1, 5_000))
def test_clip_keeps_short_text_and_says_how_much_of_long_text_it_kept(text, most):
    clipped = wire.clip(text, most)
    if len(text) <= most:
        assert clipped == text and wire.clipped_size(clipped) is None or "[cut:" in text
    else:
        assert clipped.startswith(text[:most]) and wire.clipped_size(clipped) == (most, len(text))
