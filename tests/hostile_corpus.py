"""Hostile values the input walker (tests/test_hostile_input.py) sends to every endpoint.

Each entry stands for a class of input that once gave a 500: NUL bytes, numbers no column holds,
dates whose arithmetic leaves the calendar, blank look-alikes, very long text, formula cells.
"""

from __future__ import annotations

import io
import json
import struct
import zlib

TEXT = [
    "\x00",
    "a\x00b",
    "",
    "   ",
    "x" * 5000,
    '=HYPERLINK("http://evil.example")',
    "'; DROP TABLE users; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%_\\",
    "\u0663\u0664",  # Arabic-Indic digits: str.isdigit() says yes
    "\U0001f600" * 3,
    "MOLESKINE",
]
NUMBERS = [
    "1e27",
    "9" * 30,
    "-1",
    "2147483648",
    "99999999999999999999",
    "-99999999999999999999",
    "NaN",
    "Infinity",
    "1e-999999",
    "0.005",
    "1_000",
]
DATES = [
    "9999-12",
    "9999-12-31",
    "0000-00",
    "0001-01-01",
    "10000-01-01",
    "2026-13",
    "2026-02-30",
    "%20%20%20",
]
VALUES = TEXT + NUMBERS + DATES
# The per-field pass sends fewer values (one field at a time, the others left valid).
FIELD_VALUES = [
    "\x00",
    "   ",
    "x" * 5000,
    "1e27",
    "9" * 30,
    "2147483648",
    "-1",
    "9999-12-31",
    "9999-12",
    "NaN",
    "=1+1",
]


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


CSV_HEADER = "sku,title,description,gtin,brand,category,price,inventory,status,attributes"
FILES = {
    "bomb.png": png_declaring(30000, 30000),
    "large.png": png_declaring(8000, 8000),
    "garbage.png": b"\x89PNG not really",
    "empty.csv": b"",
    "nul.csv": f"{CSV_HEADER}\nA\x00,T,,,,,1,1,active,\n".encode(),
    "numbers.csv": f"{CSV_HEADER}\nA,T,,,,,1e27,99999999999999999999,active,\n".encode(),
    "formula.csv": f"{CSV_HEADER}\n=1+1,@SUM(A1),-2,,+b,=c,1,1,active,k=v\n".encode(),
    "latin1.csv": f"{CSV_HEADER}\nA,caf\xe9,,,,,1,1,active,\n".encode("latin-1"),
}


def file_upload(name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(FILES[name]), name


def deep_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


JSON_BODIES = {
    "deep array": deep_json(100_000),
    "deep object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "NUL in a string": json.dumps({"id": "evt\u0000", "type": "order.placed"}).encode(),
    "lone surrogate": b'{"id": "\\ud800", "type": "order.placed", "created": 1}',
    "huge integer": b'{"id": "e", "type": "order.placed", "created": ' + b"9" * 5000 + b"}",
    "not JSON": b"\xff\xfe{",
    "a list": b"[1, 2, 3]",
    "NaN": b'{"id": NaN}',
}
