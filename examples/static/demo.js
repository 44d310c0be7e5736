// A script from this site's own files: script-src 'self' allows it.
document.getElementById("file-status").textContent =
  "The script file /static/demo.js ran.";
