// The console's camera-health banner: one line per camera nobody can see through
// ("Camera 2 blind for 40 s", red) or that is analysed below real time ("Camera 3
// analysing 41 % of real time", amber), from the deployment's camera-health API, every
// few seconds.
(function () {
  "use strict";
  var box = document.getElementById("camera-banner");
  if (!box) { return; }
  var every = parseInt(box.dataset.every, 10) || 3000;

  // lines: [{text, cls}]; the server wrote each camera's banner and level.
  function show(lines) {
    box.replaceChildren.apply(box, lines.map(function (line) {
      var p = document.createElement("p");
      p.textContent = line.text;
      if (line.cls) { p.className = line.cls; }
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
        show((body.cameras || []).filter(function (c) { return c.banner; })
          .map(function (c) { return {text: c.banner, cls: c.level}; }));
      })
      .catch(function () {
        box.dataset.level = "unknown";
        show([{text: "Camera health unknown: cannot reach the server; retrying.", cls: "unknown"}]);
      })
      .finally(function () { setTimeout(poll, every); });
  }
  poll();
})();
