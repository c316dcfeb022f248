"""The API's JSON parser, with limits on size, nesting and string length.

Python's json module parses in linear time in C, and recurses once per level: deep
nesting raises RecursionError, which DRF does not catch, so it is caught here. No request
of ours nests more than a few levels, sends a text longer than a page, or a body of a
megabyte, so anything beyond MAX_DEPTH, MAX_STRING_CHARS or MAX_BODY_BYTES is refused as
a parse error (400). The limits are checked on the parsed value, in one pass over it: an
earlier regular expression over the raw body took quadratic time on a string of escaped
quotes (40 KB: 15-48 s with the interpreter lock held, the whole server stopped).
Strings must be text: a lone UTF-16 surrogate is refused (`_check_text`).
"""

import io

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32
MAX_STRING_CHARS = 64 * 1024
# Bounds what parsing may build: 1 MB of "[]," is ~350,000 lists (~20 MB of objects).
MAX_BODY_BYTES = 1024 * 1024


def _check_limits(value) -> None:
    """ParseError when a container nests deeper than MAX_DEPTH or a string or key is longer
    than MAX_STRING_CHARS (iterative: no recursion, each value visited once)."""
    pending = [(value, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if len(value) > MAX_STRING_CHARS:
                raise ParseError(
                    f"JSON parse error - a string longer than {MAX_STRING_CHARS} characters."
                )
            if not value.isascii():
                _check_text(value)
            continue
        if isinstance(value, dict):
            pending.extend((key, depth) for key in value)
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth + 1 > MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        pending.extend((child, depth + 1) for child in children)


def _check_text(value: str) -> None:
    """JSON may escape half of a UTF-16 pair alone ("\\ud800"): not text. Echoed by an
    error message it made the answer unencodable (500), so it is refused, unechoed."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError(
            "JSON parse error - a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)."
        ) from None


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(data) > MAX_BODY_BYTES:
            raise ParseError(f"JSON parse error - a body larger than {MAX_BODY_BYTES} bytes.")
        try:
            value = super().parse(io.BytesIO(data), media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.") from None
        _check_limits(value)
        return value
