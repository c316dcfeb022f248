// Immediate quality feedback: preview the chosen file locally and ask the server for the
// intake verdict (the check endpoint stores nothing). The real submit re-checks anyway.
(function () {
  "use strict";
  var form = document.getElementById("submit-form");
  if (!form) return;
  var input = form.querySelector("input[type=file][name=image]");
  var preview = document.getElementById("preview");
  var box = document.getElementById("facebox");
  var verdict = document.getElementById("verdict");
  var objectUrl = null;

  function say(text, cls) {
    verdict.textContent = text;
    verdict.className = cls;
  }

  function drawBox(result) {
    if (!result.face_box || !preview.naturalWidth) { box.style.display = "none"; return; }
    var scale = preview.clientWidth / result.width;
    var top = result.face_box[0], right = result.face_box[1];
    var bottom = result.face_box[2], left = result.face_box[3];
    box.style.left = (left * scale) + "px";
    box.style.top = (top * scale) + "px";
    box.style.width = ((right - left) * scale) + "px";
    box.style.height = ((bottom - top) * scale) + "px";
    box.style.display = "block";
  }

  input.addEventListener("change", function () {
    box.style.display = "none";
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    var file = input.files && input.files[0];
    if (!file) { preview.style.display = "none"; return; }
    objectUrl = URL.createObjectURL(file);
    preview.src = objectUrl;
    preview.style.display = "block";
    say("Checking…", "muted");
    var data = new FormData();
    data.append("image", file);
    var ref = form.querySelector("[name=subject_reference]");
    if (ref) data.append("subject_reference", ref.value);
    data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    fetch(form.dataset.checkUrl, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (result) {
        if (result.ok) {
          say("Accepted: face " + result.face_px + " px, sharpness " + Math.round(result.sharpness) +
              ", pose " + result.pose_score.toFixed(2) + ".", "badge ok");
          if (preview.complete) drawBox(result); else preview.onload = function () { drawBox(result); };
          var near = result.near_matches || [];
          if (near.length) {
            say("Accepted, but this face is already held under another subject: " +
                near.map(function (m) {
                  return m.subject_reference + " (entry " + m.entry_id + ", " + m.entry_state +
                         ", distance " + m.distance.toFixed(3) + ")";
                }).join("; ") + ". A manager will need a reason to approve it.", "badge warn");
            verdict.setAttribute("data-testid", "near-warning");
          }
        } else {
          say("Refused (" + result.rule + "): " + result.detail, "error");
        }
      })
      .catch(function () { say("The check could not run; the image is checked again on submit.", "muted"); });
  });
})();
