"""Decoding a submission's bytes: PEP 263 coding lines and byte order marks."""
from __future__ import annotations

import codecs

import pytest

from grader.load import loaded
from grader.load import notebook
from grader.load import program as load
from shapes import notebook

# --- encodings (PEP 263, byte order marks) -------------------------------------------------------------

BODY = "def f():\n    return 'Zoë, café'\n"


@pytest.mark.parametrize("data", [
    pytest.param(("# -*- coding: latin-1 -*-\n# Zoë Müller\n" + BODY).encode("latin-1"), id="latin-1-declared"),
    pytest.param(("# coding: cp1252\n# “résumé” — 5 €\n" + BODY).encode("cp1252"), id="cp1252-declared"),
    pytest.param(("#!/usr/bin/env python\n# vim: set fileencoding=iso-8859-15 :\n" + BODY).encode("iso-8859-15"),
                 id="declared-on-line-2"),
    pytest.param(b"\xef\xbb\xbf" + BODY.encode(), id="utf-8-bom"),
    pytest.param(BODY.encode("utf-16"), id="utf-16-bom-powershell"),
    pytest.param(codecs.BOM_UTF16_BE + BODY.encode("utf-16-be"), id="utf-16-be-bom"),
    pytest.param(BODY.encode("utf-32"), id="utf-32-bom"),
])
def test_a_source_is_read_in_the_encoding_it_declares(data):
    program = load.load_bytes(data, filename="s.py")
    namespace: dict = {}
    exec(compile(program.source, "s.py", "exec"), namespace)
    assert namespace["f"]() == "Zoë, café"


def test_a_notebook_with_a_byte_order_mark_is_read():
    data = notebook("def f():\n    return 'Zoë'")
    for encoded in (b"\xef\xbb\xbf" + data, data.decode().encode("utf-16")):
        assert "def f():" in load.load_bytes(encoded, filename="nb.ipynb").source


@pytest.mark.parametrize("data, words", [
    pytest.param("x = 1\ny = 'Zoë'\n".encode("latin-1"), "line 2, column 8", id="undeclared-latin-1"),
    pytest.param("x = 'é'\ny = 'Zoë'\n".encode("utf-8")[:-4] + b"\xeb'\n", "line 2, column 8", id="columns-count-characters"),
    pytest.param("# coding: ascii\nx = 'é'\n".encode("utf-8"), "ascii text, as it declares", id="declared-wrongly"),
    pytest.param(b"# coding: klingon\nx = 1\n", "unknown encoding: klingon", id="unknown-encoding"),
    pytest.param(b"\r\r" + "x = 'é'".encode("latin-1"), "line 3, column 6", id="cr-only-lines"),
])
def test_a_source_that_cannot_be_decoded_names_the_line_and_column(data, words):
    with pytest.raises(loaded.LoadError) as raised:
        load.load_bytes(data, filename="s.py")
    assert words in str(raised.value) and "offset" not in str(raised.value)
