"""Decode a submission's bytes as they declare: a byte order mark, a PEP 263 coding line, else UTF-8."""
from __future__ import annotations

import codecs
import io
import tokenize

from grader.load.kinds import source_kind
from grader.load.loaded import LoadError
from grader.load.parse import LINE_BREAK

# Byte order marks, longest first: UTF-32's little-endian mark starts with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def text_encoding(data: bytes, *, kind: str = ".py") -> str:
    """The encoding a submission's bytes declare: a byte order mark (UTF-8, UTF-16 as PowerShell's `>` writes,
    UTF-32), else for Python source its PEP 263 coding line (`# -*- coding: latin-1 -*-`), else UTF-8.

    A notebook is JSON, UTF-8 by nbformat's rule: only a byte order mark changes how it is read.
    Raises LoadError for a coding line naming an encoding Python does not know.
    """
    bom = next((encoding for mark, encoding in _BOMS if data.startswith(mark)), None)
    if bom is not None:
        return bom
    if kind != ".py":
        return "utf-8"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "unknown encoding" not in str(error):
            return "utf-8"  # no coding line and bytes that are not UTF-8: decoding says where they are
        raise LoadError(f"its coding line names an {error}") from None
    return encoding


def _position(data: bytes, offset: int) -> str:
    """Line and column (both from 1) of byte `offset`, as an editor shows them."""
    before = data[:offset]
    line = len(LINE_BREAK.split(before.decode("latin-1")))
    start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
    column = len(before[start:].decode("utf-8", "replace")) + 1  # characters, not bytes
    return f"line {line}, column {column}"


def decode_text(data: bytes, *, filename: str) -> str:
    """The submission's text, decoded as it declares (text_encoding), or a LoadError saying in one line why it
    has none."""
    if not data.strip():
        raise LoadError(f"{filename} is empty")
    kind = source_kind(filename) or ".py"
    try:
        encoding = text_encoding(data, kind=kind)
    except LoadError as error:
        raise LoadError(f"{filename}: {error}") from None
    if b"\x00" in data and not encoding.startswith(("utf-16", "utf-32")):
        raise LoadError(f"{filename} is a binary file, not Python source or a notebook")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        declared = encoding not in ("utf-8", "utf-8-sig")
        what = f"{codecs.lookup(encoding).name} text, as it declares," if declared else "UTF-8 text"
        hint = "" if declared else " (save it as UTF-8, or declare its encoding on its first line: # -*- coding: cp1252 -*-)"
        raise LoadError(f"{filename} is not {what}: byte 0x{data[error.start]:02x} at "
                        f"{_position(data, error.start)} cannot be read{hint}") from None
    except LookupError:
        raise LoadError(f"{filename}: its coding line names an unknown encoding ({encoding})") from None
    if encoding.startswith(("utf-16", "utf-32")) and sum(ord(char) > 127 for char in text) * 2 > len(text):
        # Source and JSON are mostly ASCII whatever their encoding: two bytes that look like a BOM ahead of
        # anything else (an image, an archive) do not make text.
        raise LoadError(f"{filename} is a binary file, not Python source or a notebook")
    if not text.strip():
        raise LoadError(f"{filename} is empty")
    return text.removeprefix("\ufeff")
