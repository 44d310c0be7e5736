/* Stands in for a script from a CDN: written for a page without nonces. */
document.addEventListener("DOMContentLoaded", function () {
  var status = document.getElementById("cdn-status");
  status.textContent = "The CDN script ran: stamping gave its <script src> the nonce.";
  status.className = "ok";
});
