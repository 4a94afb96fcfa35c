// deepgrad report: the graph explorer. Hand-written, no library.
// <div class="dg-graph" data-src="ID"> draws the autograd graph of one recorded batch
// (inputs grey, parameters blue, ops white, the loss green; boxes round the modules, a
// click on a module's name collapses it to one box) and walks the backward order: the
// "step backward" button or the key → (also j or s) moves to the next node the backward
// pass reached, ← (k) goes back, Home starts again. The panel shows the node's output and
// the gradient that arrived there: mean, std, min, max and a histogram. Vanishing and
// exploding gradients are marked on the graph all the time.
(function () {
  "use strict";
  var D = window.deepgradDom, html = D.html, el = D.el;
  function fmt(v) {
    if (v === null || v === undefined) return "\u2014";
    var a = Math.abs(v);
    if (v !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3).replace(/e([+-])(\d)$/, "e$10$2");
    return String(Number(v.toPrecision(4)));
  }

  function Explorer(root, d) {
    this.root = root; this.d = d; this.pos = -1; this.collapsed = {};
    this.byId = {};
    var self = this;
    d.nodes.forEach(function (n) { self.byId[n.id] = n; });
    this.groupOf = {};
    Object.keys(d.groups).forEach(function (g) {
      d.groups[g].forEach(function (id) { self.groupOf[id] = g; });
    });
    root.setAttribute("tabindex", "0");
    var bar = html("div", {"class": "dg-controls"}, root);
    var undo = html("button", {type: "button", "class": "dg-step-undo"}, bar, "\u25c0 back up (\u2190)");
    var step = html("button", {type: "button", "class": "dg-step-back"}, bar, "step backward (\u2192) \u25b6");
    var reset = html("button", {type: "button", "class": "dg-step-reset"}, bar, "start again (Home)");
    this.counter = html("span", {"class": "dg-step-count"}, bar, "");
    var flagged = d.nodes.filter(function (n) { return n.flag; });
    html("span", {"class": "dg-flag-count"}, bar, flagged.length ?
         flagged.length + " node(s) with vanishing or exploding gradients (marked)" :
         "no vanishing or exploding gradients");
    step.addEventListener("click", function () { self.go(self.pos + 1); });
    undo.addEventListener("click", function () { self.go(self.pos - 1); });
    reset.addEventListener("click", function () { self.go(-1); });
    root.addEventListener("keydown", function (ev) {
      var k = ev.key;
      if (k === "ArrowRight" || k === "j" || k === "s") { self.go(self.pos + 1); ev.preventDefault(); }
      else if (k === "ArrowLeft" || k === "k") { self.go(self.pos - 1); ev.preventDefault(); }
      else if (k === "Home") { self.go(-1); ev.preventDefault(); }
    });
    var wrap = html("div", {"class": "dg-graph-wrap"}, root);
    this.svg = el("svg", {viewBox: "0 -20 " + (d.width + 10) + " " + (d.height + 30),
                          width: d.width + 10, height: d.height + 30, "class": "dg-graph-svg"}, wrap);
    this.panel = html("div", {"class": "dg-node-panel", "aria-live": "polite"}, wrap);
    this.draw();
    this.go(-1);
  }

  // the box a node is drawn as: its own, or its module's when that is collapsed
  Explorer.prototype.rep = function (id) {
    var g = this.groupOf[id];
    return g && this.collapsed[g] ? "g:" + g : "n:" + id;
  };

  Explorer.prototype.box = function (key) {
    var d = this.d;
    if (key.charAt(0) === "n") {
      var l = d.layout[key.slice(2)];
      return {x: l[0], y: l[1], w: l[2], h: l[3]};
    }
    var ids = d.groups[key.slice(2)], x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    ids.forEach(function (id) {
      var l = d.layout[id];
      x0 = Math.min(x0, l[0] - l[2] / 2); x1 = Math.max(x1, l[0] + l[2] / 2);
      y0 = Math.min(y0, l[1] - l[3] / 2); y1 = Math.max(y1, l[1] + l[3] / 2);
    });
    return {x: (x0 + x1) / 2, y: (y0 + y1) / 2, w: x1 - x0, h: y1 - y0};
  };

  Explorer.prototype.draw = function () {
    var self = this, d = this.d, svg = this.svg;
    svg.textContent = "";
    this.nodeEls = {};
    var clusters = el("g", {}, svg), edges = el("g", {}, svg), boxes = el("g", {}, svg);
    Object.keys(d.groups).forEach(function (g) {
      var b = self.box("g:" + g), shut = !!self.collapsed[g];
      var c = el("g", {"class": "dg-module" + (shut ? " dg-collapsed" : ""), "data-module": g}, clusters);
      el("rect", {x: b.x - b.w / 2 - 8, y: b.y - b.h / 2 - 16, width: b.w + 16, height: b.h + 22, rx: 6}, c);
      var name = el("text", {x: b.x - b.w / 2 - 4, y: b.y - b.h / 2 - 5, "class": "dg-module-name",
                             tabindex: "0", role: "button"}, c);
      name.textContent = (shut ? "\u25b8 " : "\u25be ") + g + (shut ? " (" + d.groups[g].length + " nodes)" : "");
      var toggle = function () { self.collapsed[g] = !self.collapsed[g]; self.draw(); self.mark(); };
      name.addEventListener("click", toggle);
      name.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.stopPropagation(); toggle(); } });
      if (shut) self.nodeEls["g:" + g] = c;
    });
    var drawn = {};
    d.edges.forEach(function (e) {
      var a = self.rep(e[0]), b = self.rep(e[1]);
      if (a === b || drawn[a + ">" + b]) return;
      drawn[a + ">" + b] = true;
      var p = self.box(a), q = self.box(b);
      el("line", {x1: p.x, y1: p.y + p.h / 2, x2: q.x, y2: q.y - q.h / 2, "class": "dg-edge"}, edges);
    });
    d.nodes.forEach(function (n) {
      var key = self.rep(n.id);
      if (key.charAt(0) === "g") return;
      var b = self.box(key);
      var g = el("g", {"class": "dg-node dg-" + n.kind + (n.flag ? " dg-" + n.flag : ""),
                       "data-node": n.id}, boxes);
      el("rect", {x: b.x - b.w / 2, y: b.y - b.h / 2, width: b.w, height: b.h, rx: 4}, g);
      var lines = d.text[n.id];
      lines.forEach(function (t, i) {
        el("text", {x: b.x, y: b.y - (lines.length - 1) * 6.5 + i * 13 + 4, "text-anchor": "middle",
                    "class": i ? "dg-shape" : ""}, g).textContent = t;
      });
      if (n.flag) el("title", {}, g).textContent = n.flag + " gradient";
      g.addEventListener("click", function () { self.go(d.order.indexOf(n.id)); });
      self.nodeEls[key] = g;
    });
  };

  Explorer.prototype.mark = function () {
    var cur = this.pos >= 0 ? this.d.order[this.pos] : null, self = this;
    Object.keys(this.nodeEls).forEach(function (k) { self.nodeEls[k].classList.remove("dg-current"); });
    if (cur !== null) {
      var e = this.nodeEls[this.rep(cur)];
      if (e) e.classList.add("dg-current");
    }
  };

  Explorer.prototype.go = function (pos) {
    var n = this.d.order.length;
    this.pos = Math.max(-1, Math.min(n - 1, pos));
    this.root.setAttribute("data-step", String(this.pos + 1));
    this.counter.textContent = this.pos < 0 ? "before the backward pass (" + n + " nodes)"
      : "step " + (this.pos + 1) + " of " + n;
    this.mark();
    this.showPanel(this.pos < 0 ? null : this.byId[this.d.order[this.pos]]);
  };

  function histogram(parent, s, cls) {
    var W = 200, H = 54, svg = el("svg", {viewBox: "0 0 " + W + " " + H, width: W, height: H,
                                           "class": "dg-hist " + cls}, parent);
    if (!s.counts.length) return;
    var top = Math.max.apply(null, s.counts) || 1, bw = W / s.counts.length;
    s.counts.forEach(function (c, i) {
      var h = (H - 12) * c / top;
      el("rect", {x: i * bw + 0.5, y: H - 12 - h, width: bw - 1, height: h}, svg);
    });
    el("text", {x: 0, y: H - 1}, svg).textContent = fmt(s.edges[0]);
    el("text", {x: W, y: H - 1, "text-anchor": "end"}, svg).textContent = fmt(s.edges[s.edges.length - 1]);
  }

  function statBlock(parent, title, s, cls) {
    var box = html("div", {"class": "dg-stat " + cls}, parent);
    html("h5", {}, box, title);
    if (!s) { html("p", {"class": "note"}, box, "not recorded"); return; }
    var t = html("table", {"class": "dg-stat-table"}, box), r = html("tr", {}, t), v = html("tr", {}, t);
    ["mean", "std", "min", "max"].forEach(function (k) {
      html("th", {}, r, k); html("td", {"data-stat": k}, v, fmt(s[k]));
    });
    if (s.nonfinite) html("p", {"class": "error"}, box, s.nonfinite + " values are NaN or infinite");
    histogram(box, s, cls);
  }

  Explorer.prototype.showPanel = function (n) {
    var p = this.panel, d = this.d;
    p.textContent = "";
    if (!n) {
      html("p", {"class": "dg-node-title"}, p, "The loss of one batch of " + d.batch + " samples: " + fmt(d.loss) + ".");
      html("p", {"class": "note"}, p, "Press \u2192 (or the button) to follow the gradient from the loss back to the input, one node at a time.");
      return;
    }
    var shape = n.shape ? "(" + n.shape.join(", ") + ")" : "";
    html("p", {"class": "dg-node-title"}, p, n.label + " " + shape);
    html("p", {"class": "note"}, p, {input: "the data input", param: "a parameter", op: "an op",
         loss: "the loss"}[n.kind] + (n.module ? " in module " + n.module : ""));
    if (n.flag) html("p", {"class": "dg-badge dg-" + n.flag}, p, n.flag + " gradient: its RMS is "
      + (n.flag === "vanishing" ? "below 1/" + fmt(d.flag_ratio) + " of" : "above " + fmt(d.flag_ratio) + "\u00d7")
      + " the gradient at the model's output");
    statBlock(p, "output", n.out, "dg-out");
    statBlock(p, "gradient arriving here", n.grad, "dg-grad");
  };

  D.mount(".dg-graph", Explorer);
})();
