// deepgrad report: the sweep explorer. Hand-written, no library.
// <div class="dg-sweep" data-src="ID"> reads the sweep from the JSON block #ID and draws:
// a results table (click a header to sort), parallel coordinates of the settings and
// final metrics (drag along an axis to brush it; brushes on several axes combine, a
// click on an axis clears its brush), the trials' curves of the sweep's metric per epoch
// (Optuna's intermediate values; pruned trials dashed, ending in a cross) and the
// setting importance. A brush filters the table and highlights those trials' curves.
(function () {
  "use strict";
  var D = window.deepgradDom, html = D.html, el = D.el;
  function fmt(v) {
    if (v === null || v === undefined) return "\u2014";
    if (typeof v !== "number") return String(v);
    var a = Math.abs(v);
    if (v !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3).replace(/e([+-])(\d)$/, "e$10$2");
    return String(Number(v.toPrecision(4)));
  }
  var STATUS_COLOR = {completed: "#1f5fa8", pruned: "#e09f1f", failed: "#c62828"};

  function Explorer(root, data) {
    this.root = root; this.d = data; this.brush = {}; this.sort = null;
    this.axes = data.settings.concat(data.metrics.slice(0, 4));
    var h = html("p", {"class": "dg-sweep-head"}, root);
    h.textContent = data.trials.length + " trials (" + this.counts() + "); metric " + data.metric
      + " (" + (data.goal === "max" ? "higher" : "lower") + " is better), "
      + (data.search === "optuna" ? "an Optuna search" : "a grid") + ".";
    html("h4", {}, root, "Parallel coordinates");
    html("p", {"class": "note"}, root, "Drag along an axis to keep only the trials inside; " +
         "brushes on several axes combine. Click an axis to clear its brush.");
    this.pc = html("div", {"class": "dg-parcoords"}, root);
    this.status = html("p", {"class": "dg-selection"}, root, "");
    html("h4", {}, root, "Results");
    this.table = html("table", {"class": "dg-results"}, html("div", {"class": "table-wrap"}, root));
    html("h4", {}, root, data.metric + " per epoch" +
         (data.search === "optuna" ? " (Optuna's intermediate values)" : ""));
    this.curves = html("div", {"class": "dg-sweep-curves"}, root);
    html("h4", {}, root, "Setting importance");
    this.imp = html("div", {"class": "dg-importance"}, root);
    this.drawParcoords(); this.drawTable(); this.drawCurves(); this.drawImportance();
    this.update();
  }

  Explorer.prototype.counts = function () {
    var c = {};
    this.d.trials.forEach(function (t) { c[t.status] = (c[t.status] || 0) + 1; });
    return Object.keys(c).map(function (k) { return c[k] + " " + k; }).join(", ");
  };

  // an axis: maps a trial's value to [0, 1] (0 bottom, 1 top)
  Explorer.prototype.scale = function (key) {
    var d = this.d, kind = d.kinds[key] || {kind: "num", log: false};
    var vals = d.trials.map(function (t) { return t.values[key]; })
      .filter(function (v) { return v !== null && v !== undefined; });
    if (kind.kind === "cat") {
      var cats = [];
      vals.forEach(function (v) { if (cats.indexOf(String(v)) < 0) cats.push(String(v)); });
      cats.sort();
      return {cat: cats, f: function (v) {
        var i = cats.indexOf(String(v));
        return i < 0 ? null : (cats.length === 1 ? 0.5 : i / (cats.length - 1));
      }};
    }
    var log = kind.log, t = log ? Math.log10 : function (v) { return v; };
    var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
    if (lo === hi) { lo = log ? lo / 2 : lo - 0.5; hi = log ? hi * 2 : hi + 0.5; }
    return {lo: lo, hi: hi, log: log, f: function (v) {
      return v === null || v === undefined ? null : (t(v) - t(lo)) / (t(hi) - t(lo));
    }, inv: function (f) {
      return log ? Math.pow(10, t(lo) + f * (t(hi) - t(lo))) : lo + f * (hi - lo);
    }};
  };

  Explorer.prototype.drawParcoords = function () {
    var self = this, d = this.d, n = this.axes.length;
    var W = Math.max(520, 130 * n), H = 300, top = 28, bottom = H - 34;
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, width: W, height: H, "class": "dg-pc"}, this.pc);
    var gap = n > 1 ? (W - 120) / (n - 1) : 0;
    this.scales = {};
    var xs = this.axes.map(function (key, i) { return 60 + i * gap; });
    var lines = el("g", {}, svg);
    this.pcLines = {};
    d.trials.forEach(function (t) {
      var pts = [];
      self.axes.forEach(function (key, i) {
        var s = self.scales[key] || (self.scales[key] = self.scale(key)), f = s.f(t.values[key]);
        if (f !== null) pts.push(xs[i].toFixed(1) + " " + (bottom - f * (bottom - top)).toFixed(1));
      });
      self.pcLines[t.id] = el("path", {d: "M" + pts.join("L"), "class": "dg-pc-line",
                                       stroke: STATUS_COLOR[t.status] || "#888",
                                       "data-trial": t.id}, lines);
    });
    this.axes.forEach(function (key, i) {
      var s = self.scales[key], x = xs[i];
      var g = el("g", {"class": "dg-axis", "data-key": key}, svg);
      el("line", {x1: x, x2: x, y1: top, y2: bottom, "class": "dg-axis-line"}, g);
      el("text", {x: x, y: 14, "text-anchor": "middle", "class": "dg-axis-name"}, g).textContent = key;
      if (s.cat) {
        s.cat.forEach(function (c) {
          el("text", {x: x + 6, y: bottom - s.f(c) * (bottom - top) + 4}, g).textContent = c;
        });
      } else {
        g.setAttribute("data-lo", s.lo); g.setAttribute("data-hi", s.hi);
        g.setAttribute("data-log", s.log ? "1" : "0");
        el("text", {x: x + 6, y: bottom + 4}, g).textContent = fmt(s.lo);
        el("text", {x: x + 6, y: top + 4}, g).textContent = fmt(s.hi) + (s.log ? " (log)" : "");
      }
      var band = el("rect", {x: x - 7, width: 14, "class": "dg-pc-brush", visibility: "hidden"}, g);
      // the grip reaches 10 units past both ends, so a brush can start beyond the last trial
      var hit = el("rect", {x: x - 14, y: top - 10, width: 28, height: bottom - top + 20,
                            "class": "dg-pc-hit"}, g);
      var axisLine = g.querySelector(".dg-axis-line");
      function frac(ev) {  // 0 at the bottom of the axis, 1 at its top
        var r = axisLine.getBoundingClientRect();
        return Math.max(0, Math.min(1, 1 - (ev.clientY - r.top) / r.height));
      }
      hit.addEventListener("mousedown", function (ev) {
        ev.preventDefault();
        var start = frac(ev), moved = false;
        function move(e) {
          var f = frac(e), a = Math.min(start, f), b = Math.max(start, f);
          if (Math.abs(f - start) * (bottom - top) > 3) moved = true;
          band.setAttribute("y", bottom - b * (bottom - top));
          band.setAttribute("height", (b - a) * (bottom - top));
          band.setAttribute("visibility", moved ? "visible" : "hidden");
        }
        function up(e) {
          window.removeEventListener("mousemove", move);
          window.removeEventListener("mouseup", up);
          var f = frac(e);
          if (moved) self.brush[key] = [Math.min(start, f), Math.max(start, f)];
          else { delete self.brush[key]; band.setAttribute("visibility", "hidden"); }
          self.update();
        }
        window.addEventListener("mousemove", move);
        window.addEventListener("mouseup", up);
      });
    });
  };

  Explorer.prototype.selected = function (t) {
    for (var key in this.brush) {
      var f = this.scales[key].f(t.values[key]), b = this.brush[key];
      if (f === null || f < b[0] - 1e-9 || f > b[1] + 1e-9) return false;
    }
    return true;
  };

  Explorer.prototype.drawTable = function () {
    var self = this, d = this.d;
    var cols = ["trial"].concat(d.settings, ["seed", "status", "epochs", "wall_time"], d.metrics);
    this.cols = cols;
    var head = html("tr", {}, html("thead", {}, this.table));
    cols.forEach(function (c) {
      var th = html("th", {"data-col": c, "class": "dg-sortable", tabindex: "0"}, head, c);
      th.addEventListener("click", function () { self.sortBy(c); });
      th.addEventListener("keydown", function (ev) { if (ev.key === "Enter") self.sortBy(c); });
    });
    this.tbody = html("tbody", {}, this.table);
    this.rows = {};
    var best = null;
    d.trials.forEach(function (t) {
      var v = t.values[d.metric];
      if (t.status === "completed" && typeof v === "number" &&
          (best === null || (d.goal === "max" ? v > best.v : v < best.v))) best = {v: v, id: t.id};
    });
    d.trials.forEach(function (t) {
      var tr = html("tr", {"data-trial": t.id}, self.tbody);
      cols.forEach(function (c) {
        var v = c === "trial" ? t.id : c === "status" ? t.status : t.values[c];
        var td = html("td", {}, tr, fmt(v));
        if (c === d.metric && best && best.id === t.id) td.className = "best";
        if (c === "status") td.className = "dg-status-" + t.status;
      });
      if (t.error) tr.title = t.error;
      tr.addEventListener("mouseenter", function () { self.focus(t.id, true); });
      tr.addEventListener("mouseleave", function () { self.focus(t.id, false); });
      self.rows[t.id] = tr;
    });
  };

  Explorer.prototype.sortBy = function (c) {
    var d = this.d, self = this;
    this.sort = this.sort && this.sort.col === c ? {col: c, dir: -this.sort.dir} : {col: c, dir: 1};
    var dir = this.sort.dir;
    var key = function (t) { return c === "trial" ? t.id : c === "status" ? t.status : t.values[c]; };
    var order = d.trials.slice().sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === null || x === undefined) return (y === null || y === undefined) ? 0 : 1;
      if (y === null || y === undefined) return -1;
      if (typeof x === "number" && typeof y === "number") return dir * (x - y);
      return dir * String(x).localeCompare(String(y));
    });
    order.forEach(function (t) { self.tbody.appendChild(self.rows[t.id]); });
    Array.prototype.forEach.call(this.table.querySelectorAll("th"), function (th) {
      th.removeAttribute("aria-sort");
      if (th.getAttribute("data-col") === c) th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
    });
  };

  Explorer.prototype.drawCurves = function () {
    var d = this.d, self = this, W = 560, H = 240, M = {l: 54, r: 12, t: 10, b: 30};
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, width: W, height: H, "class": "dg-svg"}, this.curves);
    var x1 = 1, y0 = Infinity, y1 = -Infinity;
    d.trials.forEach(function (t) {
      t.curve.epoch.forEach(function (e, i) {
        x1 = Math.max(x1, e); y0 = Math.min(y0, t.curve.value[i]); y1 = Math.max(y1, t.curve.value[i]);
      });
    });
    if (!isFinite(y0)) { el("text", {x: W / 2, y: H / 2, "text-anchor": "middle"}, svg).textContent = "no curves recorded"; return; }
    if (y0 === y1) { y0 -= 0.5; y1 += 0.5; }
    var pw = W - M.l - M.r, ph = H - M.t - M.b;
    function px(e) { return M.l + (x1 === 1 ? 0.5 : (e - 1) / (x1 - 1)) * pw; }
    function py(v) { return M.t + (1 - (v - y0) / (y1 - y0)) * ph; }
    for (var e = 1; e <= x1; e++) el("text", {x: px(e), y: H - M.b + 14, "text-anchor": "middle"}, svg).textContent = e;
    el("text", {x: M.l + pw / 2, y: H - 3, "text-anchor": "middle"}, svg).textContent = "epoch";
    [y0, (y0 + y1) / 2, y1].forEach(function (v) {
      el("text", {x: M.l - 5, y: py(v) + 4, "text-anchor": "end"}, svg).textContent = fmt(v);
      el("line", {x1: M.l, x2: M.l + pw, y1: py(v), y2: py(v), "class": "dg-grid"}, svg);
    });
    this.curveEls = {};
    d.trials.forEach(function (t) {
      if (!t.curve.epoch.length) return;
      var g = el("g", {"class": "dg-trial-curve dg-" + t.status, "data-trial": t.id}, svg);
      var pts = t.curve.epoch.map(function (e, i) { return px(e).toFixed(1) + " " + py(t.curve.value[i]).toFixed(1); });
      el("path", {d: "M" + pts.join("L"), stroke: STATUS_COLOR[t.status] || "#888",
                  "stroke-dasharray": t.status === "pruned" ? "5 3" : ""}, g);
      if (t.status === "pruned") {
        var n = t.curve.epoch.length - 1, cx = px(t.curve.epoch[n]), cy = py(t.curve.value[n]);
        el("path", {d: "M" + (cx - 4) + " " + (cy - 4) + "L" + (cx + 4) + " " + (cy + 4) +
                    "M" + (cx - 4) + " " + (cy + 4) + "L" + (cx + 4) + " " + (cy - 4),
                    "class": "dg-pruned-mark", stroke: STATUS_COLOR.pruned}, g);
      }
      el("title", {}, g).textContent = t.id + " (" + t.status + ")";
      self.curveEls[t.id] = g;
    });
    var key = html("p", {"class": "note"}, this.curves);
    key.textContent = "Solid: completed; dashed, ending in \u00d7: pruned (stopped by the pruner " +
      "at that epoch). Brushed trials are drawn bold, the others faint.";
  };

  Explorer.prototype.drawImportance = function () {
    var d = this.d;
    var n = d.importance.length ? d.importance[0].n : 0;
    html("p", {"class": "note dg-method"}, this.imp,
         "Method: for each setting, the share of the variance of " + d.metric + " over the " + n +
         " completed trials that its values explain (\u03b7\u00b2 = between-group / total sum " +
         "of squares; numeric settings with more than 5 values are binned by rank into 5 " +
         "groups). One setting at a time, no interactions; \u03c1 is Spearman's rank " +
         "correlation with the metric. Few trials make it noisy.");
    var table = html("table", {"class": "dg-imp"}, this.imp);
    d.importance.slice().sort(function (a, b) { return (b.eta2 || 0) - (a.eta2 || 0); })
      .forEach(function (r) {
        var tr = html("tr", {"data-key": r.key}, table);
        html("th", {}, tr, r.key);
        var bar = html("td", {"class": "dg-bar"}, tr);
        html("span", {}, bar).style.width = (r.eta2 === null ? 0 : Math.round(160 * r.eta2)) + "px";
        html("td", {}, tr, r.eta2 === null ? "n/a" : "\u03b7\u00b2 " + r.eta2.toFixed(2));
        var better = r.rho === null ? "" : (r.rho > 0) === (d.goal === "max") ? "higher is better" : "lower is better";
        html("td", {}, tr, r.rho === null ? "" : "\u03c1 " + (r.rho > 0 ? "+" : "") + r.rho.toFixed(2) + " (" + better + ")");
      });
  };

  Explorer.prototype.focus = function (id, on) {
    var p = this.pcLines[id], c = this.curveEls && this.curveEls[id];
    if (p) p.classList.toggle("dg-hover", on);
    if (c) c.classList.toggle("dg-hover", on);
  };

  Explorer.prototype.update = function () {
    var self = this, any = Object.keys(this.brush).length > 0, kept = 0;
    this.d.trials.forEach(function (t) {
      var on = self.selected(t);
      if (on) kept += 1;
      self.rows[t.id].hidden = !on;
      self.pcLines[t.id].classList.toggle("dg-off", !on);
      var c = self.curveEls && self.curveEls[t.id];
      if (c) { c.classList.toggle("dg-on", any && on); c.classList.toggle("dg-off", any && !on); }
    });
    this.status.textContent = any ? kept + " of " + this.d.trials.length + " trials inside the brushes ("
      + Object.keys(this.brush).join(", ") + ")." : "All " + this.d.trials.length + " trials shown.";
  };

  D.mount(".dg-sweep", Explorer);
})();
