/* A tiny stand-in for moment.js: formats an ISO timestamp as a date. */
window.moment = function (iso) {
  return { format: function () { return iso.slice(0, 10); } };
};
