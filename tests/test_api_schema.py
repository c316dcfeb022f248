"""The API schema an integrator reads: every response of every operation says what it is."""

import json

from drf_spectacular.generators import SchemaGenerator

METHODS = {"get", "post", "put", "patch", "delete"}


def schema():
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))


def test_every_response_of_every_operation_has_a_description(db):
    empty = [
        f"{method.upper()} {path} {status}"
        for path, item in schema()["paths"].items()
        for method, operation in item.items()
        if method in METHODS
        for status, response in operation["responses"].items()
        if not (response.get("description") or "").strip()
    ]
    assert empty == []
