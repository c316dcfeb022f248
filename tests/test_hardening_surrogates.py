"""Issue 24.6 (input): a lone UTF-16 surrogate in a JSON string (valid JSON: "\\ud800") is
refused with a clean 400, never a server error. A choice field used to echo it in its
error message, which then could not be encoded: 500. Found by fuzzing every choice field
of every JSON operation in the API schema, as every role, on real objects."""

import json

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from recognition.models import Adjudication
from tests.figures import check_doc, write_figure
from tests.fixtures_console import make_alert
from tests.helpers import sign_in

SURROGATE = "\ud800"
ROLES = ["admin", "command", "authoriser", "manager", "contributor", "officer", "oversight"]


def _choice_operations() -> list[tuple[str, str, list[str]]]:
    """(method, path, choice fields) of every operation taking JSON with a choice field."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]

    def is_enum(prop: dict) -> bool:
        refs = [prop, *prop.get("allOf", []), *prop.get("oneOf", []), prop.get("items") or {}]
        return "enum" in prop or any(
            "enum" in components.get(r.get("$ref", "").split("/")[-1], {}) for r in refs
        )

    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if not body or "$ref" not in body["schema"]:
                continue
            component = components[body["schema"]["$ref"].split("/")[-1]]
            fields = [
                name
                for name, prop in component.get("properties", {}).items()
                if not prop.get("readOnly") and is_enum(prop)
            ]
            if fields:
                found.append((method, path, fields))
    return found


def test_no_choice_field_answers_a_lone_surrogate_with_a_server_error(users, console_deployment):
    alert = make_alert(console_deployment, nudge=False)
    decided = make_alert(console_deployment, nudge=False)
    adjudication = Adjudication.objects.create(
        alert=decided, by=users.officer, is_true_match=False, confirmed=True, outcome="no_action"
    )
    ids = {
        "{id}": console_deployment.pk,
        "{alert_id}": alert.pk,
        "{adjudication_id}": adjudication.pk,
    }
    operations = _choice_operations()
    assert len(operations) >= 6  # the schema was read: create, update, decisions...
    errors, requests = [], 0
    for role in ROLES:
        client = Client(raise_request_exception=False)
        sign_in(client, getattr(users, role))
        for method, path, fields in operations:
            url = path
            for name, value in ids.items():
                url = url.replace(name, str(value))
            for field in fields:
                body = json.dumps({field: SURROGATE, "reason": "fuzz", "note": "fuzz"})
                response = getattr(client, method)(url, body, content_type="application/json")
                requests += 1
                if response.status_code >= 500:
                    errors.append(f"{role} {method.upper()} {url} {field}")
                elif response.status_code == 400:
                    response.content.decode("utf-8")  # clean: encodable, no surrogate
    assert not errors, "500 for:\n" + "\n".join(errors)
    line = (
        f"lone surrogate: {len(operations)} JSON operations with choice fields x "
        f"{len(ROLES)} roles, {requests} requests: server errors 0"
    )
    write_figure("lone_surrogate", {"line": line})
    check_doc(line)


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "\udc00\ud800"])
def test_it_refuses_a_lone_surrogate_anywhere_in_a_json_body(users, text):
    client = Client(raise_request_exception=False)
    sign_in(client, users.command)
    body = json.dumps({"use_case": "crime_hotspot", "necessity": text})
    response = client.post("/api/v1/deployments/create/", body, content_type="application/json")
    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]


def test_it_keeps_real_astral_characters(users):
    from io import BytesIO

    from core.parsers import JSONParser

    body = json.dumps({"note": "\U0001f600 caf\u00e9"}).encode()  # "\ud83d\ude00": a pair
    assert JSONParser().parse(BytesIO(body), None, {}) == {"note": "\U0001f600 caf\u00e9"}
