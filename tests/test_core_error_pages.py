"""403, 404 and 500 are pages of the site: what happened, where to go, with navigation."""

import pytest
from django.contrib.staticfiles import finders


def test_it_shows_a_404_with_navigation_and_a_way_home(login, users):
    response = login(users.officer).get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'data-testid="error-page"' in html and 'aria-label="Main"' in html
    assert "your role does not reach it" in html and 'href="/"' in html


def test_it_tells_an_anonymous_visitor_where_to_log_in(client):
    html = client.get("/no-such-page/").content.decode()
    assert 'data-testid="error-page"' in html and "/accounts/login/" in html


def test_it_shows_a_403_with_the_reason(login, users):
    # Oversight reads deployments but may not plan one.
    response = login(users.oversight).get("/deployments/new/")
    html = response.content.decode()
    assert response.status_code == 403
    assert 'data-testid="error-page"' in html and "You may not create this deployment." in html


def test_it_answers_json_under_the_api(login, users):
    response = login(users.officer).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


@pytest.mark.urls("tests.urls_boom")
def test_it_shows_a_500_with_a_reference_and_no_database_needed(login, users, client):
    client.raise_request_exception = False
    login(users.officer)
    response = client.get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    assert 'data-testid="error-page"' in html and "Reference for support" in html
    assert "a bug" not in html  # never the exception's text


def test_every_page_names_a_favicon_that_exists(login, users, client):
    html = login(users.officer).get("/").content.decode()
    assert 'rel="icon" href="/static/core/favicon.svg"' in html
    assert finders.find("core/favicon.svg")
    redirect = client.get("/favicon.ico")
    assert redirect.status_code == 301 and redirect["Location"] == "/static/core/favicon.svg"
