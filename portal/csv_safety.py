"""CSV downloads: streamed, and safe to open in a spreadsheet (OWASP's CSV-injection advice).

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as a
formula by Excel, LibreOffice or Google Sheets; it is written with a leading ``'``, which the
spreadsheet shows as text. Numbers (a refund's negative amount) are written as they are, so they
stay numbers. :func:`restore_text` undoes the prefix, for an importer reading our own export back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

from flask import Response, stream_with_context

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
ROWS_PER_CHUNK = 500


def _looks_like_formula(text: str) -> bool:
    # Quotes already in front count too, so a text that itself starts with "'=" survives the
    # round trip: it is written "''=" and read back "'=".
    return text.lstrip(QUOTE).startswith(FORMULA_STARTS)


def neutralise(value: Any) -> Any:
    """A cell value safe for a spreadsheet: formula-like text gets a leading ``'``."""
    if isinstance(value, str) and _looks_like_formula(value):
        return QUOTE + value
    return value


def restore_text(text: str) -> str:
    """The text :func:`neutralise` was given (its prefix removed); other text unchanged."""
    if text.startswith(QUOTE) and _looks_like_formula(text):
        return text[1:]
    return text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header and ``rows`` as CSV text, neutralised, a few hundred rows per chunk.

    The header goes out with the first rows, so the first chunk already ran the query.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for n, row in enumerate(rows, 1):
        writer.writerow([neutralise(cell) for cell in row])
        if n % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A streamed CSV download.

    The first chunk is produced before the response starts, so an error in building the query
    becomes an ordinary error page instead of a connection cut mid-download.
    """
    chunks = csv_chunks(header, rows)
    first = next(chunks)
    response = Response(stream_with_context(chain([first], chunks)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
