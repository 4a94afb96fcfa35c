// What every view of the report shares: making SVG and HTML elements, and starting each
// widget on its placeholders (".dg-<kind>" with data-src naming its JSON data block).
// The views' files use it as window.deepgradDom; this file comes first in the page.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  function el(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function html(tag, attrs, parent, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function mount(selector, Widget) {
    function start() {
      var roots = document.querySelectorAll(selector);
      for (var i = 0; i < roots.length; i++) {
        var src = document.getElementById(roots[i].getAttribute("data-src"));
        roots[i].dgWidget = new Widget(roots[i], JSON.parse(src.textContent));
      }
    }
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }
  window.deepgradDom = {NS: NS, el: el, html: html, mount: mount};
})();
