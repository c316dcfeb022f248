"""One scale on the alert card: the distance and the threshold it alerts at, in the same
terms, wherever a match is shown (console, API); no "score" on another scale beside it."""

from tests.factories import make_alert
from tests.helpers import ROOT


def _alert_json(client, deployment):
    url = f"/api/v1/recognition/deployments/{deployment.pk}/alerts/?after_seq=0"
    return client.get(url).json()["results"][0]


def test_it_states_distance_and_threshold_on_one_scale(login, users, console_deployment):
    make_alert(console_deployment, distance=0.4619)
    body = _alert_json(login(users.officer), console_deployment)
    threshold = console_deployment.threshold
    assert body["match"] == f"distance 0.462 — alerts at ≤ {threshold:g}"
    assert "score" not in body  # 1 - distance read as "below the threshold" to officers


def test_it_renders_the_servers_wording_on_the_card():
    script = (ROOT / "recognition" / "static" / "recognition" / "console.js").read_text()
    assert "alert.match" in script and "Score " not in script
