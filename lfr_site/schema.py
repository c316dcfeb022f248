"""The OpenAPI schema says what the API really answers, in one place for every app.

drf-spectacular documents an operation's success from its `@extend_schema`; the refusals
every operation shares (validation, not logged in, read-only, outsider, state conflict,
body too large, throttled) and the page envelope of our lists would otherwise have to be
repeated on each of 45 views, and were missing from all but a few. `AutoSchema` adds
them from what DRF and core.access do for every view, so a client (and schemathesis, in
tests/test_schemathesis.py) can trust that a status it gets is one the schema names.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework.pagination import PageNumberPagination

ERROR = {
    "type": "object",
    "description": "Why the request was refused; `detail` says it in words.",
    "properties": {"detail": {"type": "string"}, "rule": {"type": "string"}},
    "additionalProperties": True,
}
VALIDATION = {
    "type": "object",
    "description": (
        "Field name -> its errors (DRF's shape), or `detail` and `rule` for a rule of ours "
        "(intake quality, duplicates, the activation gate)."
    ),
    "additionalProperties": True,
}
# Django's own 404 page answers a URL whose path argument fails its converter (a word
# where the id must be a number), before any API view runs.
NOT_FOUND_PAGE = {"text/html": {"schema": {"type": "string"}}}

# Status -> (description, body schema, which operations can answer it).
STANDARD = {
    "400": (
        "Invalid input: a field, a query parameter or a business rule refused it.",
        VALIDATION,
        "input",
    ),
    "401": ("Not logged in (no valid session).", ERROR, "private"),
    "403": (
        "Not logged in (DRF answers 403 to a session-less request), a missing CSRF token, "
        "or a user who may see this object but not do this (read-only).",
        ERROR,
        "private",
    ),
    "404": (
        "No such object, or one this user may not see: outsiders get 404, never 403. "
        "Also a page number past the last page.",
        ERROR,
        "private",
    ),
    "409": (
        "The object is not in a state that allows this (already decided, not live, ...).",
        ERROR,
        "write",
    ),
    "413": ("The request body is larger than the server accepts.", ERROR, "write"),
    "415": (
        "The body's content type is not one the operation reads (JSON, or a form).",
        ERROR,
        "write",
    ),
    "429": ("Too many requests from this client or for this account.", ERROR, "all"),
}

# Lists answer one page ({count, next, previous, results}), except those named here.
BARE_LISTS = {"PublishedRecordsApi"}  # the public transparency JSON: the whole record set


def _applies(which: str, *, public: bool, method: str, has_input: bool) -> bool:
    if which == "all":
        return True
    if which == "private":
        return not public
    if which == "write":
        return not public and method != "GET"
    return has_input  # "input"


class AutoSchema(SpectacularAutoSchema):
    def is_deprecated(self):
        return bool(getattr(self.view, "alias_of", None)) or super().is_deprecated()

    def get_description(self):
        alias_of = getattr(self.view, "alias_of", None)
        if alias_of:
            return (
                f"Deprecated alias of `{alias_of}`: the same request and answer. "
                "Kept for one release; use the resource-style route."
            )
        return super().get_description()

    def _describe_success(self, responses: dict, method: str) -> None:
        """Each view says what its success answers in `answers` (a text, or one per HTTP
        method); spectacular leaves a success response's description empty otherwise, and
        an integrator reads "200" with nothing beside it (tests/test_api_schema.py)."""
        answers = getattr(self.view, "answers", "")
        if isinstance(answers, dict):
            answers = answers.get(method.lower(), "")
        for status, response in responses.items():
            if status.startswith("2") and not response.get("description"):
                response["description"] = answers

    def _get_paginator(self):
        paginator = super()._get_paginator()
        if paginator is None and type(self.view).__name__ not in BARE_LISTS:
            # Our APIViews paginate by hand (DRF's PageNumberPagination, one page size
            # per view); the page they answer has the same envelope and `page` parameter.
            return PageNumberPagination()
        return paginator

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        # Public views (the transparency JSON) take no session at all.
        public = not self.view.authentication_classes
        parameters = operation.get("parameters", [])
        has_input = bool(parameters or operation.get("requestBody"))
        by_path = any(p.get("in") == "path" for p in parameters)
        responses = operation.setdefault("responses", {})
        self._describe_success(responses, method)
        for status, (description, body, which) in STANDARD.items():
            if not _applies(which, public=public, method=method, has_input=has_input):
                continue
            documented = responses.get(status)
            content = {"application/json": {"schema": body}}
            if status == "404" and by_path:
                content.update(NOT_FOUND_PAGE)
            if documented is None:
                responses[status] = {"description": description, "content": content}
            else:
                # An operation's own refusal body (e.g. the intake rule's) stays first.
                own = documented.get("content", {}).get("application/json", {}).get("schema")
                schema = {"anyOf": [own, body]} if own else body
                documented["content"] = {**content, "application/json": {"schema": schema}}
                documented["description"] = documented.get("description") or description
        return operation
