"""What a child sends back, read and put in words: its pipes drained, its result frames decoded, its outputs and messages capped, its exit explained."""
from __future__ import annotations

import os
import signal
from typing import Any

from grader.results import Capped
from grader.sandbox import wire

RESULT_PIPE_BYTES = 1024 * 1024  # results the pipe holds before the child waits for a read


def read_available(fd: int, most: int = RESULT_PIPE_BYTES) -> tuple[list[bytes], bool]:
    """What a non-blocking pipe holds now, up to about most bytes (a child writing as fast as this reads
    must not keep it here), and whether it is still open (no end of file seen)."""
    chunks, size = [], 0
    while size < most:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return chunks, True
        if not chunk:
            return chunks, False
        chunks.append(chunk)
        size += len(chunk)
    return chunks, True


def drain(fd: int, buffer: bytearray, cap: int) -> int:
    """Read what a non-blocking pipe holds now, keeping at most cap + 1 bytes; how many bytes were read."""
    read = 0
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return read
        if not chunk:
            return read
        read += len(chunk)
        room = cap + 1 - len(buffer)
        if room > 0:
            buffer += chunk[:room]


def text_of(data: bytearray, cap: int, size: int) -> str:
    text = bytes(data[:cap]).decode("utf-8", errors="replace")
    if len(data) > cap:
        text += f"\n[output truncated at {cap // 1024} KiB: {cap:,} of its {size:,} bytes are shown]"
    return text


def output_capped(name: str, data: bytearray, cap: int, size: int) -> list[Capped]:
    return [Capped(f"the submission's captured {name}", cap, size, "bytes")] if len(data) > cap else []


def clipped(what: str, text: str) -> list[Capped]:
    """A Capped for a message the child clipped (wire.clip), read back from the note clip left in it."""
    found = wire.clipped_size(text)
    return [] if found is None else [Capped(what, found[0], found[1])]


def opaque_capped(what: str, value: Any, depth: int = 0) -> list[Capped]:
    """A Capped for each value inside value that arrived as an Opaque with its repr cut."""
    if isinstance(value, wire.Opaque):
        if not value.cut:
            return []
        shown = wire.clipped_size(value.text)
        return [Capped(f"the repr of a {value.type_name} that {what}", shown[0] if shown else len(value.text),
                       value.size)]
    if depth > wire.MAX_DEPTH:
        return []
    items = value.values() if type(value) is dict else value if type(value) in (list, tuple) else ()
    return [capped for item in items for capped in opaque_capped(what, item, depth + 1)]


def exit_reason(returncode: int | None) -> str:
    """Why a child stopped before finishing, in words."""
    if returncode is None:
        return "the submission's process stopped without saying why"
    if returncode < 0:
        number = -returncode
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        meaning = {"SIGSEGV": "a segmentation fault", "SIGKILL": "killed", "SIGABRT": "aborted",
                   "SIGXFSZ": "a file over the size limit", "SIGBUS": "a bus error",
                   "SIGXCPU": "over its CPU time limit", "SIGFPE": "a floating-point trap",
                   "SIGILL": "an illegal instruction", "SIGTERM": "terminated"}.get(name, "a signal")
        return f"the submission's process died of {name} ({meaning})"
    return f"the submission's process exited with code {returncode} before it finished"


def decode_all(payloads: list[bytes]) -> list[dict]:
    messages = []
    for payload in payloads:
        try:
            message = wire.decode(payload)
        except wire.WireError:
            continue
        if isinstance(message, dict):
            messages.append(message)
    return messages
