/* A tiny stand-in for jQuery: $(selector), $(fn), .on, .text, .each. */
(function () {
  function Wrapped(elements) { this.elements = elements; }
  Wrapped.prototype.each = function (fn) {
    this.elements.forEach(function (el, i) { fn.call(el, i, el); });
    return this;
  };
  Wrapped.prototype.on = function (event, fn) {
    return this.each(function () { this.addEventListener(event, fn); });
  };
  Wrapped.prototype.text = function (value) {
    return this.each(function () { this.textContent = value; });
  };
  function $(what) {
    if (typeof what === "function") {
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", what);
      } else {
        what();
      }
      return null;
    }
    return new Wrapped(Array.prototype.slice.call(document.querySelectorAll(what)));
  }
  window.$ = window.jQuery = $;
})();
