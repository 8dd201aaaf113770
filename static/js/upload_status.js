// Upload page: ask the status endpoint while the analysis runs, move the progress tracker, and when
// the upload is finished swap in the server-rendered results (no manual reload). Each request waits
// on the server until the progress moves (?wait=&progress=, gallery.upload_events), so the page asks
// once per step instead of every 700 ms. Without JavaScript a <noscript> meta refresh does the same,
// more coarsely.
(function () {
  "use strict";

  var INTERVAL_MS = 700; // the least time between two requests (a busy server may answer at once)
  var WAIT_S = 20;

  function text(root, selector, value) {
    var node = root.querySelector(selector);
    if (node) node.textContent = value;
  }

  function render(root, data) {
    var bar = root.querySelector("[data-progress]");
    if (bar) {
      bar.setAttribute("aria-valuenow", String(data.progress));
      bar.querySelector(".progress-bar").style.width = data.progress + "%";
    }
    text(root, "[data-progress-text]", data.progress);
    text(root, "[data-stage-label]", data.stage_label);
    var badge = root.querySelector("[data-status]");
    if (badge) {
      badge.textContent = data.status.charAt(0).toUpperCase() + data.status.slice(1);
      badge.className = "status-badge badge-" + data.status;
    }
    // The server sends each step's state ("done", "current", "failed", "todo"; gallery.views
    // PIPELINE_STEPS): the page and this script share one list of steps and one rule.
    (data.steps || []).forEach(function (step) {
      var li = root.querySelector('[data-step="' + step.key + '"]');
      if (!li) return;
      li.className = "step-" + step.state;
      if (step.state === "current") li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    });
  }

  function swapInResults() {
    // The page itself, rendered by the server now that the upload is finished.
    return fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("[data-upload-page]");
        var current = document.querySelector("[data-upload-page]");
        if (!fresh || !current) throw new Error("no upload page in the response");
        current.replaceWith(fresh);
        document.title = doc.title;
      })
      .catch(function () {
        window.location.reload();
      });
  }

  function start() {
    var root = document.querySelector("[data-upload-page]");
    if (!root || root.getAttribute("data-finished") === "true") return;
    var url = root.getAttribute("data-status-url");
    var failures = 0;
    var bar = root.querySelector("[data-progress]");
    var seen = bar ? bar.getAttribute("aria-valuenow") : null; // as the server rendered the page

    function poll() {
      var sent = Date.now();
      var query = "?wait=" + WAIT_S + (seen === null ? "" : "&progress=" + seen);
      fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          render(root, data);
          if (data.finished) return swapInResults();
          seen = data.progress;
          window.setTimeout(poll, Math.max(0, INTERVAL_MS - (Date.now() - sent)));
        })
        .catch(function () {
          // A blip (server restart, network): back off, and give up after a minute of failures.
          failures += 1;
          if (failures < 30) window.setTimeout(poll, INTERVAL_MS * Math.min(failures + 1, 4));
        });
    }

    poll();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
