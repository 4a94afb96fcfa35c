// deepgrad report: interactive learning curves. Hand-written, no library.
// Each <div class="dg-curves" data-src="ID"> reads its series from the JSON block #ID
// and draws one SVG chart per metric, with a hover readout, a smoothing slider
// (debiased EMA; raw line faint beneath), log axis, drag-to-zoom and reset, the
// x axis as step / epoch / wall time, per-run toggles, a name filter and a CSV
// download of what is shown.
(function () {
  "use strict";
  var D = window.deepgradDom, html = D.html, el = D.el;
  var W = 560, H = 250, M = {l: 58, r: 12, t: 12, b: 32};
  var PALETTE = ["#1f5fa8", "#d1495b", "#2a9d55", "#e09f1f", "#7b4ea3", "#00838f",
                 "#8d6e63", "#c2185b", "#546e7a", "#9e9d24"];
  var DASH = {train: "", val: "6 4", step: "", test: "2 3"};

  // numbers as the report's tables print them (Python's "{:.4g}", exponent when tiny/huge)
  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return String(v);
    var a = Math.abs(v);
    if (v !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3).replace(/e([+-])(\d)$/, "e$10$2");
    return String(Number(v.toPrecision(4)));
  }
  // TensorBoard's smoothing: EMA divided by (1 - w^t) so the start is not pulled to 0
  function smooth(ys, w) {
    if (w <= 0) return ys.slice();
    var out = [], acc = 0, t = 0;
    for (var i = 0; i < ys.length; i++) {
      if (ys[i] === null) { out.push(null); continue; }
      t += 1; acc = w * acc + (1 - w) * ys[i];
      out.push(acc / (1 - Math.pow(w, t)));
    }
    return out;
  }
  function ticks(lo, hi, n) {
    var span = hi - lo, step = Math.pow(10, Math.floor(Math.log10(span / n)));
    var err = span / n / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
    return out;
  }
  var XLABEL = {step: "step", epoch: "epoch", time: "wall time (s)"};

  function Widget(root, data) {
    this.root = root; this.data = data;
    this.state = {smooth: 0.6, log: false, x: "step", hidden: {}, filter: "", zoom: {}};
    data.runs.forEach(function (r, k) { r.color = PALETTE[k % PALETTE.length]; });
    this.build();
    this.draw();
  }

  Widget.prototype.build = function () {
    var self = this, s = this.state, bar = html("div", {"class": "dg-controls"}, this.root);
    var lab = html("label", {}, bar, "smoothing ");
    var slider = html("input", {type: "range", min: "0", max: "0.99", step: "0.01",
                                value: String(s.smooth), "class": "dg-smooth"}, lab);
    var shown = html("output", {"class": "dg-smooth-value"}, lab, s.smooth.toFixed(2));
    slider.addEventListener("input", function () {
      s.smooth = Number(slider.value); shown.textContent = s.smooth.toFixed(2); self.draw();
    });
    var logl = html("label", {}, bar);
    var log = html("input", {type: "checkbox", "class": "dg-log"}, logl);
    logl.appendChild(document.createTextNode(" log y"));
    log.addEventListener("change", function () { s.log = log.checked; self.draw(); });
    var xl = html("label", {}, bar, "x ");
    var xs = html("select", {"class": "dg-x"}, xl);
    ["step", "epoch", "time"].forEach(function (k) { html("option", {value: k}, xs, XLABEL[k]); });
    xs.addEventListener("change", function () { s.x = xs.value; s.zoom = {}; self.draw(); });
    var reset = html("button", {type: "button", "class": "dg-reset"}, bar, "reset zoom");
    reset.addEventListener("click", function () { s.zoom = {}; self.draw(); });
    var csv = html("a", {"class": "dg-csv", download: "curves.csv", href: "#", role: "button"},
                   bar, "download CSV");
    csv.addEventListener("click", function () {
      csv.setAttribute("href", "data:text/csv;charset=utf-8," + encodeURIComponent(self.csv()));
    });
    if (this.data.runs.length > 1) {
      var runs = html("div", {"class": "dg-runs"}, this.root);
      var filter = html("input", {type: "search", placeholder: "filter runs by name",
                                  "class": "dg-filter"}, runs);
      filter.addEventListener("input", function () { s.filter = filter.value.toLowerCase(); self.draw(); });
      this.data.runs.forEach(function (r, k) {
        var l = html("label", {"class": "dg-run", "data-run": String(k)}, runs);
        var box = html("input", {type: "checkbox", checked: "checked"}, l);
        html("span", {"class": "dg-swatch", style: ""}, l).style.background = r.color;
        l.appendChild(document.createTextNode(r.label));
        box.addEventListener("change", function () { s.hidden[k] = !box.checked; self.draw(); });
      });
    }
    this.readout = html("div", {"class": "dg-readout", "aria-live": "polite"}, this.root, " ");
    this.charts = html("div", {"class": "dg-charts"}, this.root);
  };

  Widget.prototype.visible = function (k) {
    var r = this.data.runs[k], s = this.state;
    return !s.hidden[k] && (!s.filter || r.label.toLowerCase().indexOf(s.filter) >= 0);
  };

  // the series of one metric that are shown: [{run, series, xs, ys, smooth}]
  Widget.prototype.lines = function (metric) {
    var self = this, out = [];
    this.data.runs.forEach(function (r, k) {
      if (!self.visible(k)) return;
      r.series.forEach(function (se) {
        if (se.metric !== metric) return;
        var xs = se.x[self.state.x];
        if (!xs) return;
        out.push({run: r, k: k, se: se, xs: xs, ys: se.y, sm: smooth(se.y, self.state.smooth)});
      });
    });
    return out;
  };

  Widget.prototype.draw = function () {
    var self = this;
    this.charts.textContent = "";
    this.data.metrics.forEach(function (m) { self.chart(m); });
  };

  Widget.prototype.chart = function (metric) {
    var self = this, s = this.state, lines = this.lines(metric);
    var box = html("figure", {"class": "dg-chart", "data-metric": metric}, this.charts);
    html("figcaption", {}, box, metric);
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, width: W, height: H,
                         "class": "dg-svg", role: "img", "aria-label": metric}, box);
    var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity, z = s.zoom[metric];
    function extent(window) {  // the y range of the points in the x window (all when none)
      lines.forEach(function (l) {
        for (var i = 0; i < l.xs.length; i++) {
          var x = l.xs[i], y = l.ys[i];
          if (x === null || y === null || (s.log && y <= 0)) continue;
          x0 = Math.min(x0, x); x1 = Math.max(x1, x);
          if (window && (x < window[0] || x > window[1])) continue;
          y0 = Math.min(y0, y); y1 = Math.max(y1, y);
        }
      });
    }
    extent(z);
    if (z && !isFinite(y0)) extent(null);
    if (!isFinite(x0) || !isFinite(y0)) {
      el("text", {x: W / 2, y: H / 2, "text-anchor": "middle", "class": "dg-empty"}, svg)
        .textContent = "nothing to show";
      return;
    }
    if (z) { x0 = z[0]; x1 = z[1]; }
    if (x1 === x0) { x1 = x0 + 1; }
    var ty = s.log ? function (v) { return Math.log10(v); } : function (v) { return v; };
    var a = ty(y0), b = ty(y1);
    if (a === b) { var half = Math.abs(a) * 0.1 || 0.5; a -= half; b += half; }  // a constant
    var pad = (b - a) * 0.05; a -= pad; b += pad;
    var pw = W - M.l - M.r, ph = H - M.t - M.b;
    function px(x) { return M.l + (x - x0) / (x1 - x0) * pw; }
    function py(y) { return M.t + (1 - (ty(y) - a) / (b - a)) * ph; }
    svg.setAttribute("data-xmin", x0); svg.setAttribute("data-xmax", x1);
    var axes = el("g", {"class": "dg-axes"}, svg);
    ticks(x0, x1, 6).forEach(function (t) {
      el("line", {x1: px(t), x2: px(t), y1: M.t, y2: M.t + ph, "class": "dg-grid"}, axes);
      el("text", {x: px(t), y: H - M.b + 14, "text-anchor": "middle"}, axes).textContent = fmt(t);
    });
    ticks(a, b, 5).forEach(function (t) {
      var v = s.log ? Math.pow(10, t) : t;
      el("line", {x1: M.l, x2: M.l + pw, y1: py(v), y2: py(v), "class": "dg-grid"}, axes);
      el("text", {x: M.l - 5, y: py(v) + 4, "text-anchor": "end"}, axes).textContent = fmt(v);
    });
    el("text", {x: M.l + pw / 2, y: H - 3, "text-anchor": "middle", "class": "dg-xlabel"}, axes)
      .textContent = XLABEL[s.x];
    var clipId = "dgclip" + Math.random().toString(36).slice(2);
    var clip = el("clipPath", {id: clipId}, el("defs", {}, svg));
    el("rect", {x: M.l, y: M.t, width: pw, height: ph}, clip);
    var plot = el("g", {"clip-path": "url(#" + clipId + ")"}, svg);
    function path(xs, ys) {
      var d = "", pen = false;
      for (var i = 0; i < xs.length; i++) {
        if (xs[i] === null || ys[i] === null || (s.log && ys[i] <= 0)) { pen = false; continue; }
        d += (pen ? "L" : "M") + px(xs[i]).toFixed(1) + " " + py(ys[i]).toFixed(1);
        pen = true;
      }
      return d;
    }
    lines.forEach(function (l) {
      var split = l.se.split;
      if (s.smooth > 0) {
        el("path", {d: path(l.xs, l.ys), stroke: l.run.color, "class": "dg-raw",
                    "stroke-dasharray": DASH[split] || ""}, plot);
      }
      el("path", {d: path(l.xs, l.sm), stroke: l.run.color,
                  "class": "dg-line" + (split === "step" ? " dg-step" : ""),
                  "data-run": l.k, "data-split": split,
                  "stroke-dasharray": DASH[split] || ""}, plot);
    });
    // a legend of the splits drawn
    var splits = [];
    lines.forEach(function (l) { if (splits.indexOf(l.se.split) < 0) splits.push(l.se.split); });
    splits.forEach(function (sp, i) {
      var gx = M.l + pw - 8 - (splits.length - i) * 62;
      el("line", {x1: gx, x2: gx + 18, y1: M.t + 8, y2: M.t + 8, stroke: "#5b6b7f",
                  "stroke-dasharray": DASH[sp] || "",
                  "class": "dg-key dg-line" + (sp === "step" ? " dg-step" : "")}, svg);
      el("text", {x: gx + 21, y: M.t + 12, "class": "dg-keytext"}, svg).textContent = sp;
    });
    var cursor = el("line", {y1: M.t, y2: M.t + ph, "class": "dg-cursor", visibility: "hidden"}, svg);
    var dots = el("g", {}, svg);
    var brush = el("rect", {y: M.t, height: ph, "class": "dg-brush", visibility: "hidden"}, svg);
    var hit = el("rect", {x: M.l, y: M.t, width: pw, height: ph, "class": "dg-hit"}, svg);
    function dataX(ev) {
      var r = svg.getBoundingClientRect();
      var sx = (ev.clientX - r.left) * W / r.width;
      return {sx: Math.max(M.l, Math.min(M.l + pw, sx)),
              x: x0 + (Math.max(M.l, Math.min(M.l + pw, sx)) - M.l) / pw * (x1 - x0)};
    }
    var drag = null;
    hit.addEventListener("mousedown", function (ev) {
      drag = dataX(ev); ev.preventDefault();
      window.addEventListener("mouseup", function up(e) {
        window.removeEventListener("mouseup", up);
        var p = dataX(e), lo = Math.min(drag.x, p.x), hi = Math.max(drag.x, p.x);
        var wide = Math.abs(p.sx - drag.sx) > 4;
        drag = null; brush.setAttribute("visibility", "hidden");
        if (wide) { s.zoom[metric] = [lo, hi]; self.draw(); }
      });
    });
    hit.addEventListener("mousemove", function (ev) {
      var p = dataX(ev);
      if (drag) {
        brush.setAttribute("x", Math.min(drag.sx, p.sx));
        brush.setAttribute("width", Math.abs(p.sx - drag.sx));
        brush.setAttribute("visibility", "visible");
      }
      self.hover(metric, lines, p.x, cursor, dots, px, py);
    });
    hit.addEventListener("mouseleave", function () {
      cursor.setAttribute("visibility", "hidden"); dots.textContent = "";
    });
    hit.addEventListener("dblclick", function () { delete s.zoom[metric]; self.draw(); });
  };

  // the point of each shown line nearest to x: its logged value (and the smoothed one)
  Widget.prototype.hover = function (metric, lines, x, cursor, dots, px, py) {
    dots.textContent = "";
    var parts = [], s = this.state, best = null;
    lines.forEach(function (l) {
      var j = -1, d = Infinity;
      for (var i = 0; i < l.xs.length; i++) {
        if (l.xs[i] === null || l.ys[i] === null) continue;
        var e = Math.abs(l.xs[i] - x);
        if (e < d) { d = e; j = i; }
      }
      if (j < 0) return;
      if (best === null || d < best) best = d;
      el("circle", {cx: px(l.xs[j]), cy: py(l.ys[j]), r: 3.5, fill: l.run.color,
                    "class": "dg-dot"}, dots);
      var text = l.run.label + " · " + l.se.name + " @ " + s.x + " " + fmt(l.xs[j]) + ": " + fmt(l.ys[j]);
      if (s.smooth > 0) text += " (smoothed " + fmt(l.sm[j]) + ")";
      parts.push(text);
    });
    cursor.setAttribute("x1", px(x)); cursor.setAttribute("x2", px(x));
    cursor.setAttribute("visibility", "visible");
    this.readout.textContent = parts.length ? metric + " — " + parts.join("; ") : " ";
  };

  // the series shown (visible runs, current x, zoom range) as CSV: raw and smoothed values
  Widget.prototype.csv = function () {
    var self = this, rows = ["run,series,metric,step,epoch,time,value,smoothed"];
    function q(t) { return /[",\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t; }
    this.data.metrics.forEach(function (m) {
      var z = self.state.zoom[m];
      self.lines(m).forEach(function (l) {
        for (var i = 0; i < l.ys.length; i++) {
          var x = l.xs[i];
          if (z && (x === null || x < z[0] || x > z[1])) continue;
          var c = function (k) { var v = l.se.x[k]; return v && v[i] !== null ? String(v[i]) : ""; };
          rows.push([q(l.run.label), q(l.se.name), q(m), c("step"), c("epoch"), c("time"),
                     l.ys[i] === null ? "" : String(l.ys[i]),
                     l.sm[i] === null ? "" : String(l.sm[i])].join(","));
        }
      });
    });
    return rows.join("\n") + "\n";
  };

  D.mount(".dg-curves", Widget);
})();
