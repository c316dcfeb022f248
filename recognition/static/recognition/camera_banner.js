// The console's camera-health banner: one line per camera nobody can see through
// ("Camera 2 blind for 40 s"), from the deployment's camera-health API, every few seconds.
(function () {
  "use strict";
  var box = document.getElementById("camera-banner");
  if (!box) { return; }
  var every = parseInt(box.dataset.every, 10) || 3000;

  function show(lines, cls) {
    box.replaceChildren.apply(box, lines.map(function (text) {
      var p = document.createElement("p");
      p.textContent = text;
      if (cls) { p.className = cls; }
      p.setAttribute("data-testid", "camera-banner-line");
      return p;
    }));
  }

  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (body) {
        box.dataset.level = body.level;
        show(body.banners || [], "");
      })
      .catch(function () {
        box.dataset.level = "unknown";
        show(["Camera health unknown: cannot reach the server; retrying."], "unknown");
      })
      .finally(function () { setTimeout(poll, every); });
  }
  poll();
})();
