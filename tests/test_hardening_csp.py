"""Issue 14.9 (rest): a strict Content-Security-Policy on every page, no inline script
left for it to block, and the OpenAPI schema for signed-in users only."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from tests.helpers import sign_in

ROOT = Path(settings.BASE_DIR)
DOCS_PAGES = {"/api/docs/", "/api/redoc/"}  # the API's documentation, nothing else


def _names(patterns, namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _names(p.url_patterns, p.namespace or namespace)
        elif p.name:
            yield (f"{namespace}:{p.name}" if namespace else p.name), p.pattern.converters


def every_page() -> list[str]:
    urls = []
    for name, converters in _names(get_resolver().url_patterns):
        if name.startswith("admin:"):
            continue
        kwargs = {
            k: ("R-1" if type(c).__name__ == "StringConverter" else 1)
            for k, c in converters.items()
        }
        urls.append(reverse(name, kwargs=kwargs))
    return sorted(set(urls)) + ["/admin/", "/no-such-page/"]


def _policy(response) -> dict[str, str]:
    header = response.get("Content-Security-Policy", "")
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.parametrize("signed_in", [True, False])
def test_every_page_carries_a_strict_policy(users, signed_in):
    client = Client(raise_request_exception=False)
    if signed_in:
        sign_in(client, users.admin)
    pages = every_page()
    assert len(pages) > 40
    for url in pages:
        policy = _policy(client.get(url))
        assert policy.get("script-src") == "'self'", url
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'", url
        assert policy["base-uri"] == "'none'", url
        if url in DOCS_PAGES:
            continue  # Swagger UI and Redoc inject <style>: lfr_site/api_index.DOCS_CSP
        assert policy["style-src-elem"] == "'self'", url


def test_the_console_may_open_its_websocket_to_this_host_only(login, users):
    policy = _policy(login(users.officer).get("/recognition/"))
    assert policy["connect-src"] == "'self' ws://testserver"
    secure = Client().get("/accounts/login/", secure=True)
    assert _policy(secure)["connect-src"] == "'self' wss://testserver"


def test_no_template_has_inline_script_or_handlers():
    # What the policy would block: inline <script> bodies, on*= handlers, javascript: URLs.
    offenders = []
    for template in ROOT.glob("*/templates/**/*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{template}: {tag}")
        offenders += [f"{template}: {m}" for m in re.findall(r"\son[a-z]+=\"", text)]
        offenders += [f"{template}: <style>" for _ in re.findall(r"<style\b", text)]
        offenders += [f"{template}: javascript:" for _ in re.findall(r"javascript:", text)]
    assert offenders == []


def test_the_schema_is_not_public(client, users):
    assert client.get("/api/schema/").status_code == 302
    assert client.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 302


def test_a_signed_in_user_reads_the_schema(login, users):
    response = login(users.command).get("/api/schema/")
    assert response.status_code == 200 and b"/api/v1/deployments/create/" in response.content


# Issue 24.6: the policy on what WhiteNoise answers too (it answers before the views'
# middleware), e.g. an SVG opened directly, and on the body limit's 413.


@pytest.mark.parametrize("path", ["/static/core/favicon.svg", "/static/core/lfr.css"])
def test_static_files_carry_the_policy(path):
    response = Client().get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy.get("script-src") == "'self'" and policy["object-src"] == "'none'"


def test_the_413_answer_carries_a_policy(settings, db):
    from tests.test_hardening_body_limit import MB, _asgi

    settings.LFR_MAX_REQUEST_BYTES = 64 * 1024
    start, _ = _asgi([(b"content-length", str(10 * MB).encode())], [b""])
    headers = dict(start["headers"])
    assert start["status"] == 413
    assert b"default-src 'none'" in headers[b"content-security-policy"]
    assert headers[b"x-content-type-options"] == b"nosniff"


# Issue 26.6: an integration reads the schema with its token, not through the login page.


def test_a_token_client_reads_the_schema_in_json_and_yaml(users):
    from core import access, tokens

    _, key = tokens.api_token_create(by=users.admin, name="RMS", role=access.OVERSIGHT)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    as_json = Client().get("/api/schema/", {"format": "json"}, **bearer)
    assert as_json.status_code == 200, as_json.get("Location")
    assert "/api/v1/deployments/" in as_json.json()["paths"]
    as_yaml = Client().get("/api/schema/", **bearer)
    assert as_yaml.status_code == 200 and b"openapi:" in as_yaml.content


def test_a_wrong_token_gets_a_401_not_the_login_page(db):
    response = Client().get("/api/schema/", HTTP_AUTHORIZATION="Bearer lfr_nope_nope")
    assert response.status_code == 401


# Issue 26.6: Redoc asked Google Fonts for its fonts and Redocly's CDN for a logo; the policy
# blocked both and the browser logged errors. The page and its script name nothing outside.


def _outside(text: str) -> list[str]:
    # What a browser fetches by itself: a src, a stylesheet; an <a href> is only a link.
    urls = re.findall(r"""src\s*[=:]\s*["'](https?://[^"']+)""", text)
    urls += re.findall(r"""<link[^>]*href=["'](https?://[^"']+)""", text)
    return urls + re.findall(r"https://(?:fonts\.googleapis|fonts\.gstatic|cdn\.)[^\s\"')]*", text)


def test_redoc_asks_nothing_outside_this_site(login, users):
    client = login(users.command)
    page = client.get("/api/redoc/")
    html = page.content.decode()
    assert page.status_code == 200 and _outside(html) == []
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts and all(src.startswith("/") for src in scripts)
    for src in scripts:
        response = client.get(src)
        assert response.status_code == 200, src
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert _outside(body.decode()) == [], src
