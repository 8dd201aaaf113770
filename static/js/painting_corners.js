// Results page: correct where the painting is in the photo. Four corner handles over the photo, dragged
// with a pointer (mouse, pen, touch) or moved with the arrow keys; the outline follows, and the form sends
// the corners (fractions of the photo, clockwise from the top-left) for a new analysis. The server checks
// them again (gallery/corners.py). Delegated from the document and started lazily, because the results
// are swapped into the page when the analysis finishes.
(function () {
  "use strict";

  var STEP = 0.01;
  var BIG_STEP = 0.05;

  function editorOf(node) {
    return node && node.closest ? node.closest("[data-corner-editor]") : null;
  }

  function readCorners(editor) {
    var text = editor.querySelector("[data-framing-polygon]").getAttribute("points").trim();
    var points = text ? text.split(/\s+/).map(function (pair) { return pair.split(",").map(Number); }) : [];
    if (points.length === 4) return points;
    return [[0.05, 0.05], [0.95, 0.05], [0.95, 0.95], [0.05, 0.95]];  // no outline yet: start inset
  }

  // Convex and clockwise on screen (y down), as the server requires.
  function isValid(corners) {
    for (var i = 0; i < 4; i++) {
      var a = corners[i], b = corners[(i + 1) % 4], c = corners[(i + 2) % 4];
      if ((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) <= 0) return false;
    }
    return true;
  }

  function percent(value) {
    return Math.round(value * 100) + " %";
  }

  function draw(editor) {
    var corners = editor._corners;
    editor.querySelector("[data-framing-polygon]").setAttribute(
      "points", corners.map(function (p) { return p[0].toFixed(5) + "," + p[1].toFixed(5); }).join(" "));
    editor.querySelector("[data-framing-svg]").hidden = false;
    editor.querySelectorAll("[data-corner]").forEach(function (handle) {
      var point = corners[Number(handle.getAttribute("data-corner"))];
      handle.style.left = (point[0] * 100) + "%";
      handle.style.top = (point[1] * 100) + "%";
      var name = handle.getAttribute("aria-label").split(",")[0];
      handle.setAttribute("aria-label", name + ", " + percent(point[0]) + " across, " + percent(point[1]) + " down");
    });
    var valid = isValid(corners);
    editor.querySelector("[data-corner-value]").value = JSON.stringify(corners.map(function (p) {
      return [Number(p[0].toFixed(5)), Number(p[1].toFixed(5))];
    }));
    editor.querySelector("[data-corner-submit]").disabled = !valid;
    var error = editor.querySelector("[data-corner-error]");
    error.textContent = valid ? "" : "The corners cross: keep them in order round the painting (top-left, top-right, bottom-right, bottom-left).";
    error.hidden = valid;
  }

  function start(editor) {
    if (editor._corners) return;
    editor._corners = readCorners(editor);
    editor.classList.add("is-editing");
    editor.querySelectorAll("[data-corner], [data-corner-form], [data-corner-help]").forEach(function (node) {
      node.hidden = false;
    });
    editor.querySelector("[data-corner-start]").hidden = true;
    draw(editor);
  }

  function clamp(value) {
    return Math.min(1, Math.max(0, value));
  }

  function init(root) {
    root.querySelectorAll("[data-corner-editor]").forEach(function (editor) {
      if (!editor._corners) editor.querySelector("[data-corner-start]").hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-corner-start]");
    if (button) start(editorOf(button));
  });

  var dragging = null;
  document.addEventListener("pointerdown", function (event) {
    var handle = event.target.closest("[data-corner]");
    if (!handle) return;
    event.preventDefault();
    handle.focus();
    handle.setPointerCapture(event.pointerId);
    dragging = { handle: handle, editor: editorOf(handle), index: Number(handle.getAttribute("data-corner")) };
  });
  document.addEventListener("pointermove", function (event) {
    if (!dragging) return;
    var box = dragging.editor.querySelector("[data-framing-stage]").getBoundingClientRect();
    dragging.editor._corners[dragging.index] = [
      clamp((event.clientX - box.left) / box.width), clamp((event.clientY - box.top) / box.height)];
    draw(dragging.editor);
  });
  ["pointerup", "pointercancel"].forEach(function (name) {
    document.addEventListener(name, function () { dragging = null; });
  });

  document.addEventListener("keydown", function (event) {
    var handle = event.target.closest && event.target.closest("[data-corner]");
    if (!handle) return;
    var moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    var move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    var editor = editorOf(handle);
    var point = editor._corners[Number(handle.getAttribute("data-corner"))];
    var step = event.shiftKey ? BIG_STEP : STEP;
    point[0] = clamp(point[0] + move[0] * step);
    point[1] = clamp(point[1] + move[1] * step);
    draw(editor);
  });

  // The results arrive by replacing the page's content: offer the editor in whatever is there now.
  function watch() {
    init(document);
    new MutationObserver(function () { init(document); }).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watch);
  } else {
    watch();
  }
})();
