/* Fit A4 posters to the window on screen (print keeps real millimetres), and the print button. */
(function () {
  "use strict";
  var button = document.querySelector("[data-print]");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
  var posters = document.querySelectorAll(".poster");
  function fit() {
    for (var i = 0; i < posters.length; i++) {
      var poster = posters[i];
      poster.style.transform = "";
      poster.style.marginBottom = "";
      var available = document.documentElement.clientWidth - 24;
      var width = poster.offsetWidth;
      if (width > available) {
        var scale = available / width;
        poster.style.transform = "scale(" + scale + ")";
        poster.style.marginLeft = "0";
        poster.style.marginBottom = (12 - poster.offsetHeight * (1 - scale)) + "px";
      }
    }
  }
  window.addEventListener("resize", fit);
  window.addEventListener("beforeprint", function () {
    for (var i = 0; i < posters.length; i++) { posters[i].style.transform = ""; posters[i].style.marginBottom = ""; }
  });
  window.addEventListener("afterprint", fit);
  fit();
}());
