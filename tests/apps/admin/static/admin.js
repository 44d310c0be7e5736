/* The admin extension's own script, served from its blueprint's static folder. */
document.documentElement.dataset.admin = "loaded";
