/* A tiny stand-in for Bootstrap's JavaScript: dropdown toggles, on jQuery. */
(function ($) {
  $(function () {
    $("[data-bs-toggle=dropdown]").on("click", function () {
      this.nextElementSibling.classList.toggle("show");
    });
    document.documentElement.dataset.bs = "loaded";
  });
})(window.jQuery);
