// The live deployment page's camera status box, refreshed every 5 s (a static file:
// the Content-Security-Policy allows no inline script).
(function () {
  var box = document.getElementById("camera-status");
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.text();
    }).then(function (html) { box.innerHTML = html; })
      .catch(function () { box.textContent = "Camera status unavailable; retrying."; });
  }
  poll();
  setInterval(poll, 5000);
})();
