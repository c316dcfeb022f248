// A job's page (a bulk import, an evaluation): poll its progress until it ends, then
// reload for the result.
(function () {
  var box = document.getElementById("import-progress");
  if (!box || box.dataset.state === "done" || box.dataset.state === "failed") { return; }
  var bar = box.querySelector("progress");
  var status = box.querySelector("[data-testid=import-status]");
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    }).then(function (job) {
      bar.value = job.percent;
      bar.textContent = job.percent + " %";
      if (job.state === "done" || job.state === "failed") { window.location.reload(); return; }
      status.textContent = (job.state === "queued" ? "Queued" : "Running") + ": " +
        job.processed + " of " + job.total + " " + (box.dataset.unit || "files checked") +
        " (" + job.percent + " %).";
      setTimeout(poll, 1000);
    }).catch(function () {
      status.textContent = "Progress unavailable; retrying.";
      setTimeout(poll, 3000);
    });
  }
  setTimeout(poll, 500);
})();
