// Upload form, "Take a photo" (phones): the camera's picture becomes the file chooser's file, so the form
// sends one image and the drop zone shows its name, preview and early checks (upload_form.js listens to the
// chooser's "change"). A FileList cannot be shared between inputs: assigning the camera's list to the
// chooser and then clearing the camera empties both in Chromium, hence the copy through a DataTransfer.
// Without DataTransfer (Safari before 14.1) the photo stays in the camera input: both inputs are named
// like the form field, the browser sends the empty chooser first, and the server takes the last file sent.
(function () {
  "use strict";

  function init() {
    var camera = document.querySelector("[data-camera]");
    var zone = document.querySelector("[data-dropzone]");
    if (!camera || !zone) return;
    var input = zone.querySelector("input[type=file]");

    camera.addEventListener("change", function () {
      if (!camera.files.length) return;
      if (typeof DataTransfer === "function") {
        var transfer = new DataTransfer();
        transfer.items.add(camera.files[0]);
        input.files = transfer.files;
        camera.value = "";
      } else {
        input.value = "";
      }
      input.dispatchEvent(new Event("change"));
    });

    // A file chosen after a photo (the fallback above) replaces it.
    input.addEventListener("change", function () {
      if (input.files.length) camera.value = "";
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
