// The catalogue map: every work as a dot on a <canvas>, coloured by style; pan, zoom, thumbnails
// when zoomed in, hover for the title, click (or Enter) to open a work.
//
// Why canvas and not one DOM element per work: 11,670 elements re-laid out on every zoom step stall
// the page; a canvas redraw of 11,670 rectangles, batched into one path per style, takes a few
// milliseconds. Hit testing uses a uniform grid, so hovering costs the same at any catalogue size.
(function () {
  "use strict";

  var root = document.querySelector("[data-map]");
  if (!root) return;
  var canvas = root.querySelector("canvas");
  var ctx = canvas.getContext("2d");
  var tooltip = root.querySelector("[data-map-tooltip]");
  var statusLine = root.querySelector("[data-map-status]");
  var legend = document.querySelector("[data-map-legend]");

  // 13 styles: hues far apart, dark enough to read against the paper background.
  var COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf", "#ff7f0e", "#393b79", "#637939", "#843c39", "#5254a3", "#6b6ecf"];
  var MIN_SCALE_FACTOR = 0.5, MAX_SCALE_FACTOR = 400;
  var THUMBS_FROM = 18;       // thumbnails appear once a work would be at least this many pixels wide
  var MAX_THUMBS = 450;       // at most this many drawn per frame (the rest stay dots)
  var MAX_LOADING = 8;        // concurrent image downloads
  var GRID = 128;             // hit-test grid cells per side

  var data = null, n = 0, xs, ys, st, hidden = {};
  var grid = null;
  var view = { scale: 1, ox: 0, oy: 0 };
  var fitScale = 1;
  var width = 0, height = 0, dpr = 1;
  var hover = -1, keyboardFocus = false;
  var images = new Map(), loading = 0, queue = [];
  var frameRequested = false;
  var upload = null;
  var stats = { points: 0, fetchMs: 0, firstDrawMs: 0, lastDrawMs: 0, draws: 0, totalDrawMs: 0 };
  var started = performance.now();

  function resize() {
    var rect = canvas.getBoundingClientRect();
    dpr = window.devicePixelRatio || 1;
    width = rect.width; height = rect.height;
    canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    fitScale = Math.min(width, height) * 0.94;
  }

  function fit() {
    view.scale = fitScale;
    view.ox = (width - fitScale) / 2;
    view.oy = (height - fitScale) / 2;
  }

  function centreOn(x, y, scale) {
    view.scale = clampScale(scale);
    view.ox = width / 2 - x * view.scale;
    view.oy = height / 2 - y * view.scale;
  }

  function clampScale(s) {
    return Math.max(fitScale * MIN_SCALE_FACTOR, Math.min(fitScale * MAX_SCALE_FACTOR, s));
  }

  function request() {
    if (frameRequested) return;
    frameRequested = true;
    window.requestAnimationFrame(draw);
  }

  function thumbSize() {
    // Works are ~1/110 of the map apart on average at 11,670 points: size thumbnails to that spacing.
    return Math.min(140, view.scale * 0.9 / Math.sqrt(Math.max(n, 1)));
  }

  function loadImage(i) {
    var img = images.get(i);
    if (img) return img.complete && img.naturalWidth ? img : null;
    if (loading >= MAX_LOADING) { if (queue.indexOf(i) < 0) queue.push(i); return null; }
    img = new Image();
    images.set(i, img);
    loading++;
    img.onload = img.onerror = function () {
      loading--;
      request();
      while (loading < MAX_LOADING && queue.length) {
        var next = queue.shift();
        if (!images.has(next)) loadImage(next);
      }
    };
    img.decoding = "async";
    img.src = data.points.image[i];
    return null;
  }

  function draw() {
    frameRequested = false;
    var t0 = performance.now();
    ctx.clearRect(0, 0, width, height);
    var s = view.scale, ox = view.ox, oy = view.oy;
    var r = Math.max(1.2, Math.min(4, s / fitScale * 1.4));
    var groups = {};
    var visible = [];
    for (var i = 0; i < n; i++) {
      if (hidden[st[i]]) continue;
      var sx = xs[i] * s + ox, sy = ys[i] * s + oy;
      if (sx < -r || sy < -r || sx > width + r || sy > height + r) continue;
      (groups[st[i]] || (groups[st[i]] = [])).push(sx, sy);
      visible.push(i);
    }
    for (var key in groups) {
      var pts = groups[key];
      ctx.fillStyle = COLOURS[key % COLOURS.length];
      ctx.beginPath();
      for (var j = 0; j < pts.length; j += 2) ctx.rect(pts[j] - r, pts[j + 1] - r, 2 * r, 2 * r);
      ctx.fill();
    }
    var size = thumbSize();
    if (size >= THUMBS_FROM && visible.length <= MAX_THUMBS) {
      queue.length = 0;
      for (var k = 0; k < visible.length; k++) {
        var idx = visible[k];
        var img = loadImage(idx);
        var cx = xs[idx] * s + ox, cy = ys[idx] * s + oy;
        if (img) {
          var ratio = img.naturalWidth / img.naturalHeight;
          var w = ratio >= 1 ? size : size * ratio, h = ratio >= 1 ? size / ratio : size;
          ctx.drawImage(img, cx - w / 2, cy - h / 2, w, h);
          ctx.lineWidth = 2;
          ctx.strokeStyle = COLOURS[st[idx] % COLOURS.length];
          ctx.strokeRect(cx - w / 2, cy - h / 2, w, h);
        }
      }
    }
    if (hover >= 0) {
      var hx = xs[hover] * s + ox, hy = ys[hover] * s + oy, hr = Math.max(r + 4, size >= THUMBS_FROM ? size / 2 + 3 : 0);
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#1d1c1a";
      ctx.strokeRect(hx - hr, hy - hr, 2 * hr, 2 * hr);
    }
    if (upload) {
      var ux = upload.x * s + ox, uy = upload.y * s + oy;
      ctx.beginPath();
      ctx.arc(ux, uy, 9, 0, Math.PI * 2);
      ctx.fillStyle = "#a63f22";
      ctx.fill();
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#ffffff";
      ctx.stroke();
      ctx.font = "600 13px system-ui, sans-serif";
      var label = upload.label;
      var tw = ctx.measureText(label).width;
      ctx.fillStyle = "rgba(255,255,255,0.92)";
      ctx.fillRect(ux + 13, uy - 11, tw + 10, 22);
      ctx.fillStyle = "#1d1c1a";
      ctx.fillText(label, ux + 18, uy + 5);
    }
    if (keyboardFocus) {
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#1d1c1a";
      ctx.beginPath();
      ctx.moveTo(width / 2 - 10, height / 2); ctx.lineTo(width / 2 + 10, height / 2);
      ctx.moveTo(width / 2, height / 2 - 10); ctx.lineTo(width / 2, height / 2 + 10);
      ctx.stroke();
    }
    var ms = performance.now() - t0;
    stats.lastDrawMs = ms; stats.draws++; stats.totalDrawMs += ms;
    if (!stats.firstDrawMs) {
      stats.firstDrawMs = performance.now() - started;
      root.dataset.ready = "true";
    }
  }

  function buildGrid() {
    grid = new Array(GRID * GRID);
    for (var i = 0; i < n; i++) {
      var c = cellOf(xs[i], ys[i]);
      (grid[c] || (grid[c] = [])).push(i);
    }
  }

  function cellOf(x, y) {
    var cx = Math.min(GRID - 1, Math.max(0, Math.floor(x * GRID)));
    var cy = Math.min(GRID - 1, Math.max(0, Math.floor(y * GRID)));
    return cy * GRID + cx;
  }

  // The work under a screen point: the nearest visible one within `radius` pixels, or -1.
  function pick(px, py, radius) {
    var wx = (px - view.ox) / view.scale, wy = (py - view.oy) / view.scale;
    var reach = radius / view.scale;
    var x0 = Math.floor((wx - reach) * GRID), x1 = Math.floor((wx + reach) * GRID);
    var y0 = Math.floor((wy - reach) * GRID), y1 = Math.floor((wy + reach) * GRID);
    var best = -1, bestD = reach * reach;
    for (var gy = Math.max(0, y0); gy <= Math.min(GRID - 1, y1); gy++) {
      for (var gx = Math.max(0, x0); gx <= Math.min(GRID - 1, x1); gx++) {
        var cell = grid[gy * GRID + gx];
        if (!cell) continue;
        for (var k = 0; k < cell.length; k++) {
          var i = cell[k];
          if (hidden[st[i]]) continue;
          var dx = xs[i] - wx, dy = ys[i] - wy, d = dx * dx + dy * dy;
          if (d <= bestD) { bestD = d; best = i; }
        }
      }
    }
    return best;
  }

  function pickRadius() {
    var size = thumbSize();
    return size >= THUMBS_FROM ? size / 2 : 8;
  }

  function describe(i) {
    var p = data.points;
    var painter = p.painter[i] >= 0 ? data.painters[p.painter[i]] : "Unknown painter";
    return p.title[i] + " — " + painter + (p.year[i] ? " (" + p.year[i] + ")" : "") + " · " + data.styles[p.style[i]].name;
  }

  function showTooltip(i, px, py) {
    if (i < 0) { tooltip.hidden = true; return; }
    tooltip.textContent = describe(i);
    tooltip.hidden = false;
    var left = Math.min(px + 14, width - tooltip.offsetWidth - 8);
    var top = py + 16 + tooltip.offsetHeight > height ? py - tooltip.offsetHeight - 10 : py + 16;
    tooltip.style.transform = "translate(" + Math.max(4, left) + "px," + Math.max(4, top) + "px)";
  }

  function open(i) {
    if (i >= 0) window.location.href = data.artwork_url.replace("{id}", data.points.id[i]);
  }

  function zoomAt(factor, px, py) {
    var s = clampScale(view.scale * factor);
    var k = s / view.scale;
    view.ox = px - (px - view.ox) * k;
    view.oy = py - (py - view.oy) * k;
    view.scale = s;
    request();
  }

  // --- interaction -----------------------------------------------------------------------------
  var drag = null;
  canvas.addEventListener("pointerdown", function (e) {
    drag = { x: e.clientX, y: e.clientY, ox: view.ox, oy: view.oy, moved: false };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", function (e) {
    var rect = canvas.getBoundingClientRect();
    var px = e.clientX - rect.left, py = e.clientY - rect.top;
    if (drag) {
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
      if (drag.moved) {
        view.ox = drag.ox + dx; view.oy = drag.oy + dy;
        canvas.classList.add("is-dragging");
        showTooltip(-1);
        request();
        return;
      }
    }
    if (!data) return;
    var i = pick(px, py, pickRadius());
    if (i !== hover) { hover = i; request(); }
    canvas.style.cursor = i >= 0 ? "pointer" : "grab";
    showTooltip(i, px, py);
  });
  canvas.addEventListener("pointerup", function (e) {
    var wasClick = drag && !drag.moved;
    drag = null;
    canvas.classList.remove("is-dragging");
    if (wasClick && data) {
      var rect = canvas.getBoundingClientRect();
      open(pick(e.clientX - rect.left, e.clientY - rect.top, pickRadius()));
    }
  });
  canvas.addEventListener("pointerleave", function () { if (!drag) { hover = -1; showTooltip(-1); request(); } });
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var rect = canvas.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - rect.left, e.clientY - rect.top);
  }, { passive: false });
  canvas.addEventListener("dblclick", function (e) {
    var rect = canvas.getBoundingClientRect();
    zoomAt(2, e.clientX - rect.left, e.clientY - rect.top);
  });
  canvas.addEventListener("keydown", function (e) {
    var step = 60;
    var handled = true;
    keyboardFocus = true;
    if (e.key === "ArrowLeft") view.ox += step;
    else if (e.key === "ArrowRight") view.ox -= step;
    else if (e.key === "ArrowUp") view.oy += step;
    else if (e.key === "ArrowDown") view.oy -= step;
    else if (e.key === "+" || e.key === "=") zoomAt(1.5, width / 2, height / 2);
    else if (e.key === "-" || e.key === "_") zoomAt(1 / 1.5, width / 2, height / 2);
    else if (e.key === "Enter") open(pick(width / 2, height / 2, Math.max(pickRadius(), 24)));
    else handled = false;
    if (handled) {
      e.preventDefault();
      hover = pick(width / 2, height / 2, Math.max(pickRadius(), 24));
      if (hover >= 0) { statusLine.textContent = "At the centre: " + describe(hover); }
      request();
    }
  });
  canvas.addEventListener("blur", function () { keyboardFocus = false; request(); });
  root.querySelectorAll("[data-map-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var what = button.getAttribute("data-map-zoom");
      if (what === "in") zoomAt(1.6, width / 2, height / 2);
      else if (what === "out") zoomAt(1 / 1.6, width / 2, height / 2);
      else if (what === "upload" && upload) { centreOn(upload.x, upload.y, fitScale * 12); request(); }
      else { fit(); request(); }
    });
  });
  window.addEventListener("resize", function () {
    var cx = (width / 2 - view.ox) / view.scale, cy = (height / 2 - view.oy) / view.scale, k = view.scale / fitScale;
    resize();
    centreOn(cx, cy, fitScale * k);
    request();
  });

  function buildLegend() {
    var counts = {};
    for (var i = 0; i < n; i++) counts[st[i]] = (counts[st[i]] || 0) + 1;
    data.styles.forEach(function (style, index) {
      if (!counts[index]) return;
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "map-legend-item";
      button.setAttribute("aria-pressed", "true");
      var swatch = document.createElement("span");
      swatch.className = "map-legend-swatch";
      swatch.style.background = COLOURS[index % COLOURS.length];
      swatch.setAttribute("aria-hidden", "true");
      var name = document.createElement("span");
      name.textContent = style.name;
      var count = document.createElement("span");
      count.className = "map-legend-count";
      count.textContent = counts[index].toLocaleString("en");
      button.append(swatch, name, count);
      button.addEventListener("click", function () {
        hidden[index] = !hidden[index];
        button.setAttribute("aria-pressed", hidden[index] ? "false" : "true");
        request();
      });
      li.appendChild(button);
      legend.appendChild(li);
    });
  }

  // The API answers with parallel arrays; typed arrays keep the draw loop tight.
  resize();
  fit();
  if (root.dataset.uploadX) {
    upload = { x: parseFloat(root.dataset.uploadX), y: parseFloat(root.dataset.uploadY), label: root.dataset.uploadLabel };
  }
  fetch(root.dataset.src, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error("the map could not be loaded (" + response.status + ")");
      return response.json();
    })
    .then(function (payload) {
      stats.fetchMs = performance.now() - started;
      data = payload;
      n = payload.points.id.length;
      xs = Float32Array.from(payload.points.x);
      ys = Float32Array.from(payload.points.y);
      st = Int16Array.from(payload.points.style);
      stats.points = n;
      buildGrid();
      buildLegend();
      var focus = root.dataset.focus ? payload.points.id.indexOf(parseInt(root.dataset.focus, 10)) : -1;
      if (focus >= 0) { centreOn(xs[focus], ys[focus], fitScale * 20); hover = focus; }
      else if (upload) centreOn(upload.x, upload.y, fitScale * 6);
      statusLine.textContent = n.toLocaleString("en") + " paintings. Drag to move, scroll to zoom.";
      request();
    })
    .catch(function (error) {
      statusLine.textContent = "Sorry: " + error.message + ".";
      root.dataset.ready = "error";
    });

  // For the browser tests and bench/bench_map.py: timings, and where a work is drawn on screen.
  window.artsiteMap = {
    stats: stats,
    screenPosition: function (artworkId) {
      var i = data ? data.points.id.indexOf(artworkId) : -1;
      if (i < 0) return null;
      var rect = canvas.getBoundingClientRect();
      return { x: rect.left + xs[i] * view.scale + view.ox, y: rect.top + ys[i] * view.scale + view.oy };
    },
    centreOn: function (artworkId, zoom) {
      var i = data.points.id.indexOf(artworkId);
      centreOn(xs[i], ys[i], fitScale * (zoom || 20));
      request();
    },
    redraw: function () { draw(); return stats.lastDrawMs; },
    zoomAt: zoomAt
  };
})();
