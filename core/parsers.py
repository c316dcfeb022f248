"""The API's JSON parser, with a nesting limit.

Python's json module recurses once per level: 100,000 nested brackets raise
RecursionError, which DRF does not catch (a server error). No request of ours nests more
than a few levels, so anything deeper than MAX_DEPTH is refused as a parse error (400)
before it is parsed.
"""

import io
import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(rb"[\[\]{}]")


def nesting_depth(data: bytes) -> int:
    """The deepest bracket nesting of a JSON text, strings ignored (linear, no recursion)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRINGS.sub(b'""', data)):
        depth += 1 if match.group() in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        if nesting_depth(data) > MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        try:
            return super().parse(io.BytesIO(data), media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
