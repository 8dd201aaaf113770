// Upload form: drag-and-drop onto the file zone, a preview of the chosen image, and an early size check.
// The server checks everything again; this only saves a round trip for an obvious mistake.
(function () {
  "use strict";

  function init() {
    var zone = document.querySelector("[data-dropzone]");
    if (!zone) return;
    var input = zone.querySelector("input[type=file]");
    var preview = zone.querySelector("[data-preview]");
    var filename = zone.querySelector("[data-filename]");
    var clientError = document.querySelector("[data-client-error]");
    var maxBytes = parseInt(zone.getAttribute("data-max-bytes"), 10) || 0;
    var accepted = (input.getAttribute("accept") || "").split(",");
    // Browsers other than Safari cannot draw HEIC: those files get their name shown, not a preview.
    var drawable = ["image/jpeg", "image/png", "image/webp", "image/avif"];

    function acceptable(file) {
      var dot = file.name.lastIndexOf(".");
      var extension = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
      return accepted.indexOf(file.type) !== -1 || accepted.indexOf(extension) !== -1;
    }

    function showError(text) {
      clientError.textContent = text;
      clientError.hidden = !text;
    }

    function show(file) {
      showError("");
      // A new choice answers the server's earlier complaint about this field: hide it.
      var field = zone.closest(".field");
      if (field && file) {
        field.classList.remove("field-invalid");
        field.querySelectorAll("ul.field-errors").forEach(function (list) { list.hidden = true; });
      }
      if (!file) {
        preview.hidden = true;
        filename.textContent = "";
        zone.classList.remove("has-file");
        return;
      }
      filename.textContent = file.name + " · " + Math.max(1, Math.round(file.size / 1024)) + " KB";
      zone.classList.add("has-file");
      if (!acceptable(file)) {
        showError("This file is not a JPEG, PNG, WebP, HEIC or AVIF image.");
      } else if (maxBytes && file.size > maxBytes) {
        showError("This file is larger than " + Math.round(maxBytes / 1048576) + " MB.");
      }
      if (drawable.indexOf(file.type) !== -1) {
        if (preview.src) URL.revokeObjectURL(preview.src);
        preview.src = URL.createObjectURL(file);
        preview.hidden = false;
      }
    }

    input.addEventListener("change", function () {
      show(input.files[0]);
    });

    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("is-dragging");
      });
    });
    ["dragleave", "dragend", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () {
        zone.classList.remove("is-dragging");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) return;
      input.files = files;
      show(files[0]);
    });

    var form = zone.closest("form");
    form.addEventListener("submit", function () {
      var button = form.querySelector("[data-submit]");
      // Disabled after the submit event has been dispatched, so the browser still sends the form.
      window.setTimeout(function () {
        button.disabled = true;
        button.textContent = "Uploading…";
      }, 0);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
