// Results page: switch the figure between the painting and the heat map of its top style. Delegated
// from the document, because the results are swapped into the page when the analysis finishes.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-heat-show]");
    if (!button) return;
    var figure = button.closest("figure");
    var overlay = button.getAttribute("data-heat-show") === "overlay";
    figure.querySelector("[data-heat-overlay]").hidden = !overlay;
    figure.querySelector("[data-heat-painting]").hidden = overlay;
    figure.querySelectorAll("[data-heat-show]").forEach(function (other) {
      other.setAttribute("aria-pressed", other === button ? "true" : "false");
    });
  });
})();
