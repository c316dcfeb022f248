// The cameras page and camera form: live stream health (polled) and the "Test" buttons,
// which open a URL on the server, read one frame and say what came back (nothing stored).
(function () {
  "use strict";
  var health = document.getElementById("camera-health");
  if (health) {
    var poll = function () {
      fetch(health.dataset.url, {credentials: "same-origin"})
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
        .then(function (html) { health.innerHTML = html; })
        .catch(function () { health.textContent = "Camera health unavailable; retrying."; })
        .finally(function () { setTimeout(poll, parseInt(health.dataset.every, 10) || 5000); });
    };
    poll();
  }

  var token = document.querySelector("[name=csrfmiddlewaretoken]");
  document.querySelectorAll("[data-camera-test]").forEach(function (button) {
    button.addEventListener("click", function () {
      var out = document.getElementById(button.dataset.output);
      var body = new FormData();
      if (button.dataset.camera) { body.append("camera", button.dataset.camera); }
      if (button.dataset.field) {
        var field = button.form && button.form.querySelector("[name='" + button.dataset.field + "']");
        body.append("stream_url", field ? field.value : "");
      }
      button.disabled = true;
      out.className = "camera-test-result";
      out.textContent = "Testing…";
      fetch(button.dataset.cameraTest, {
        method: "POST", credentials: "same-origin", body: body,
        headers: {"X-CSRFToken": token ? token.value : "", Accept: "application/json"},
      })
        .then(function (r) { return r.json(); })
        .then(function (res) {
          out.className = "camera-test-result " + (res.ok ? "ok" : "bad");
          out.textContent = res.ok
            ? "OK: " + res.width + "×" + res.height + (res.fps ? " at " + res.fps + " fps" : "") +
              " (" + res.seconds + " s)"
            : "Failed: " + res.error;
        })
        .catch(function (err) {
          out.className = "camera-test-result bad";
          out.textContent = "Failed: " + err;
        })
        .finally(function () { button.disabled = false; });
    });
  });
})();
