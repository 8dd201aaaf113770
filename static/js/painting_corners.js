// Results page, "The painting in your photo": correct which part of the photo is analysed. Four corner
// handles over the photo, dragged with a pointer (mouse, pen, touch) or moved with the arrow keys; the
// outline follows, and the form sends the corners (fractions of the photo's width and height, clockwise
// from the top-left, y down) for a new analysis. The server checks them again (gallery/corners.py); this
// only keeps obviously unusable shapes from being sent. Delegated from the document and started lazily,
// because the results are swapped into the page when the analysis finishes (upload_status.js).
(function () {
  "use strict";

  var STEP = 0.01;
  var BIG_STEP = 0.05;
  var MIN_AREA = 0.02; // gallery/corners.py MIN_AREA
  var INSET = [[0.05, 0.05], [0.95, 0.05], [0.95, 0.95], [0.05, 0.95]]; // no outline yet
  var MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

  function editorOf(node) {
    return node && node.closest ? node.closest("[data-corner-editor]") : null;
  }

  function find(editor, selector) {
    return editor.querySelector(selector);
  }

  function outlineOf(editor) {
    var text = find(editor, "[data-framing-polygon]").getAttribute("points").trim();
    var points = text ? text.split(/\s+/).map(function (pair) { return pair.split(",").map(Number); }) : [];
    return points.length === 4 && points.every(function (p) { return p.length === 2 && p.every(isFinite); })
      ? points : null;
  }

  function clamp(value) {
    return Math.min(1, Math.max(0, value));
  }

  function round(value) {
    return Math.round(value * 100000) / 100000;
  }

  // Why these corners cannot be sent, in the server's words, or "" when they can.
  function problem(corners) {
    for (var i = 0; i < 4; i++) {
      var a = corners[i], b = corners[(i + 1) % 4], c = corners[(i + 2) % 4];
      if ((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) <= 0) {
        return "The corners must go round the painting clockwise from its top-left, without crossing.";
      }
    }
    var area = 0;
    for (var j = 0; j < 4; j++) {
      var p = corners[j], q = corners[(j + 1) % 4];
      area += p[0] * q[1] - q[0] * p[1];
    }
    if (area / 2 < MIN_AREA) return "The outline is too small: it must cover at least 2 % of the photo.";
    return "";
  }

  function where(handle, point) {
    return handle.getAttribute("data-name") + ", " + Math.round(point[0] * 100) + " % across, " +
      Math.round(point[1] * 100) + " % down";
  }

  function draw(editor) {
    var corners = editor._corners;
    find(editor, "[data-framing-polygon]").setAttribute("points", corners.map(function (p) {
      return round(p[0]) + "," + round(p[1]);
    }).join(" "));
    find(editor, "[data-framing-svg]").hidden = false;
    editor.querySelectorAll("[data-corner]").forEach(function (handle) {
      var point = corners[Number(handle.getAttribute("data-corner"))];
      handle.style.left = (point[0] * 100) + "%";
      handle.style.top = (point[1] * 100) + "%";
      handle.setAttribute("aria-label", where(handle, point));
    });
    find(editor, "[data-corner-value]").value = JSON.stringify(corners.map(function (p) {
      return [round(p[0]), round(p[1])];
    }));
    var message = problem(corners);
    find(editor, "[data-corner-submit]").disabled = message !== "";
    var error = find(editor, "[data-corner-error]");
    error.textContent = message;
    error.hidden = message === "";
    editor.classList.toggle("is-invalid", message !== "");
  }

  function editing(editor, on) {
    editor.classList.toggle("is-editing", on);
    editor.querySelectorAll("[data-corner], [data-corner-form], [data-corner-help], [data-corner-cancel]")
      .forEach(function (node) { node.hidden = !on; });
    find(editor, "[data-corner-start]").hidden = on;
  }

  function start(editor) {
    if (editor._corners) return;
    var outline = outlineOf(editor);
    editor._outline = outline;
    editor._corners = (outline || INSET).map(function (p) { return p.slice(); });
    find(editor, "[data-framing-stage]").hidden = false;
    editing(editor, true);
    draw(editor);
    find(editor, "[data-corner]").focus();
  }

  function cancel(editor) {
    if (!editor._corners) return;
    var outline = editor._outline;
    editor._corners = null;
    editing(editor, false);
    find(editor, "[data-framing-polygon]").setAttribute("points", outline ? outline.map(function (p) {
      return p.join(",");
    }).join(" ") : "");
    find(editor, "[data-framing-svg]").hidden = !outline;
    find(editor, "[data-framing-stage]").hidden = !outline; // the photo is the figure above otherwise
    find(editor, "[data-corner-error]").hidden = true;
    editor.classList.remove("is-invalid");
    find(editor, "[data-corner-start]").focus();
  }

  function init(root) {
    root.querySelectorAll("[data-corner-editor]").forEach(function (editor) {
      if (editor._ready) return;
      editor._ready = true;
      editor.querySelectorAll("[data-corner]").forEach(function (handle) {
        handle.setAttribute("data-name", handle.getAttribute("aria-label"));
      });
      var button = find(editor, "[data-corner-start]");
      if (!outlineOf(editor)) button.textContent = "Mark the painting’s corners";
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    var begin = event.target.closest("[data-corner-start]");
    if (begin) start(editorOf(begin));
    var stop = event.target.closest("[data-corner-cancel]");
    if (stop) cancel(editorOf(stop));
  });

  // Dragging: the handle keeps the offset at which it was grabbed, so it does not jump to the pointer.
  var drag = null;
  document.addEventListener("pointerdown", function (event) {
    var handle = event.target.closest && event.target.closest("[data-corner]");
    if (!handle || event.button !== 0) return;
    var editor = editorOf(handle);
    if (!editor._corners) return;
    event.preventDefault(); // no text selection, no scrolling (touch-action: none on the handle too)
    handle.focus();
    handle.setPointerCapture(event.pointerId);
    var box = handle.getBoundingClientRect();
    drag = {
      pointer: event.pointerId,
      editor: editor,
      handle: handle,
      index: Number(handle.getAttribute("data-corner")),
      dx: event.clientX - (box.left + box.width / 2),
      dy: event.clientY - (box.top + box.height / 2),
    };
    handle.classList.add("is-dragging");
  });
  document.addEventListener("pointermove", function (event) {
    if (!drag || event.pointerId !== drag.pointer) return;
    var stage = find(drag.editor, "[data-framing-stage]").getBoundingClientRect();
    drag.editor._corners[drag.index] = [
      clamp((event.clientX - drag.dx - stage.left) / stage.width),
      clamp((event.clientY - drag.dy - stage.top) / stage.height),
    ];
    draw(drag.editor);
  });
  ["pointerup", "pointercancel"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (!drag || event.pointerId !== drag.pointer) return;
      drag.handle.classList.remove("is-dragging");
      announce(drag.editor, drag.handle);
      drag = null;
    });
  });

  function announce(editor, handle) {
    find(editor, "[data-corner-status]").textContent =
      where(handle, editor._corners[Number(handle.getAttribute("data-corner"))]);
  }

  document.addEventListener("keydown", function (event) {
    var handle = event.target.closest && event.target.closest("[data-corner]");
    if (!handle) return;
    var editor = editorOf(handle);
    if (!editor._corners) return;
    if (event.key === "Escape") {
      cancel(editor);
      return;
    }
    var move = MOVES[event.key];
    if (!move) return;
    event.preventDefault(); // the arrows move the corner, not the page
    var point = editor._corners[Number(handle.getAttribute("data-corner"))];
    var step = event.shiftKey ? BIG_STEP : STEP;
    point[0] = clamp(round(point[0] + move[0] * step));
    point[1] = clamp(round(point[1] + move[1] * step));
    draw(editor);
    announce(editor, handle);
  });

  // One click sends the corners once: a second click while the new analysis is being created does not
  // create a second one.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-corner-form]")) return;
    var editor = editorOf(form);
    if (!editor._corners || problem(editor._corners)) {
      event.preventDefault();
      return;
    }
    window.setTimeout(function () { find(editor, "[data-corner-submit]").disabled = true; }, 0);
  });
  // Back to this page from the browser's cache: the button is usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("[data-corner-editor]").forEach(function (editor) {
      if (editor._corners) draw(editor);
    });
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
