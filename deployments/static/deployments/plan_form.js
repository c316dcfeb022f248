// The plan form offers only the cameras of the chosen site: each camera's box carries
// its site (data-site, from the server). A camera hidden by a change of site is unticked,
// so what is sent is what is shown; the server refuses another site's camera anyway.
(function () {
  "use strict";
  var site = document.getElementById("id_site");
  if (!site) return;
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=cameras][data-site]"));
  function show() {
    boxes.forEach(function (box) {
      var here = site.value === "" || box.dataset.site === site.value;
      var row = box.closest("label") ? box.closest("label").parentElement : box.parentElement;
      row.hidden = !here;
      if (!here) box.checked = false;
    });
  }
  site.addEventListener("change", show);
  show();
})();
