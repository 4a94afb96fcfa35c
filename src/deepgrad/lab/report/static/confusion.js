// deepgrad report: the confusion matrix you can click. Hand-written, no library.
// Each <div class="dg-confusion" data-src="ID"> draws the matrix from the JSON block #ID
// (rows true, columns predicted, shaded by the share of the row); clicking a cell, or
// Enter/Space on it, lists that cell's misclassified samples with their thumbnails.
(function () {
  "use strict";
  var D = window.deepgradDom, html = D.html;

  function Matrix(root, data) {
    this.root = root; this.data = data;
    var self = this, n = data.classes.length;
    var table = html("table", {"class": "dg-matrix"}, root);
    var head = html("tr", {}, html("thead", {}, table));
    html("th", {"class": "dg-corner"}, head, "true \u2193 / predicted \u2192");
    data.classes.forEach(function (c) { html("th", {scope: "col"}, head, c); });
    var body = html("tbody", {}, table);
    for (var t = 0; t < n; t++) {
      var row = html("tr", {}, body), total = 0;
      for (var q = 0; q < n; q++) total += data.matrix[t][q];
      html("th", {scope: "row"}, row, data.classes[t]);
      for (var p = 0; p < n; p++) {
        var count = data.matrix[t][p], share = total ? count / total : 0;
        var td = html("td", {"class": "dg-cell" + (t === p ? " dg-diag" : ""), tabindex: "0",
                             role: "button", "data-true": String(t), "data-pred": String(p),
                             title: data.classes[t] + " predicted as " + data.classes[p]
                                    + ": " + count}, row, String(count));
        var alpha = count ? 0.08 + 0.85 * share : 0;
        td.style.background = t === p ? "rgba(42,157,85," + alpha + ")"
                                      : "rgba(198,40,40," + Math.min(1, alpha * 2.5) + ")";
        if (alpha > 0.55) td.style.color = "#fff";
        td.addEventListener("click", this.show.bind(this, t, p, td));
        td.addEventListener("keydown", function (ev) {
          if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); ev.target.click(); }
        });
      }
    }
    this.panel = html("div", {"class": "dg-examples", "aria-live": "polite"}, root);
    html("p", {"class": "note"}, this.panel, "Click a cell to see its misclassified examples.");
    self.selected = null;
  }

  Matrix.prototype.show = function (t, p, td) {
    var d = this.data, names = d.classes, panel = this.panel;
    if (this.selected) this.selected.classList.remove("dg-selected");
    td.classList.add("dg-selected"); this.selected = td;
    panel.textContent = "";
    var count = d.matrix[t][p];
    if (t === p) {
      html("p", {"class": "dg-cell-title"}, panel,
           count + " " + names[t] + " predicted correctly: no mistakes in this cell.");
      return;
    }
    var listed = d.cells[t + "," + p] || [];
    html("p", {"class": "dg-cell-title"}, panel, "True " + names[t] + ", predicted " + names[p]
         + ": " + count + " example" + (count === 1 ? "" : "s") + ", most confident first"
         + (listed.length < count ? " (the first " + listed.length + " listed)" : "") + ".");
    var grid = html("div", {"class": "dg-thumbs"}, panel), missing = 0;
    listed.forEach(function (e) {
      var item = html("figure", {"class": "dg-example", "data-index": String(e[0])}, grid);
      if (e[2] >= 0) html("img", {src: d.images[e[2]], alt: "test sample " + e[0]}, item);
      else { missing += 1; item.classList.add("dg-noimage"); }
      html("figcaption", {}, item, "#" + e[0] + " \u00b7 " + (100 * e[1]).toFixed(1) + "%");
    });
    if (missing) {
      html("p", {"class": "note"}, panel, missing + " without a thumbnail: "
           + (d.stored ? "the run keeps images of the most confident mistakes of each cell only."
                       : "the run stores no images (not image data)."));
    }
  };

  D.mount(".dg-confusion", Matrix);
})();
