/* 在线学习: small touches for old Android WebViews, in ES5. Without this file the
   practice forms work the same; the server grades every answer. */
(function () {
  "use strict";
  if (!document.querySelectorAll) { return; }
  var forms = document.querySelectorAll(".practice-form");

  function markChecked(form) {
    // :has() is missing in older WebViews, so mirror the checked state on the label.
    var labels = form.querySelectorAll(".option");
    for (var i = 0; i < labels.length; i++) {
      var input = labels[i].querySelector("input");
      labels[i].className = "option" + (input.checked ? " is-checked" : "");
    }
  }

  function watch(form) {
    var sent = false;
    var button = form.querySelector("button[type=submit]");
    var label = button ? button.textContent : "";
    form.addEventListener("change", function () { markChecked(form); });
    window.addEventListener("pageshow", function () {
      // Coming back with the browser's back button shows this page from its cache.
      sent = false;
      if (button) { button.textContent = label; }
    });
    form.addEventListener("submit", function (event) {
      // A double tap on a slow network would otherwise send the same answer twice.
      if (sent) { event.preventDefault(); return; }
      sent = true;
      if (button) { button.textContent = "正在提交…"; }
    });
    markChecked(form);
  }

  for (var i = 0; i < forms.length; i++) { watch(forms[i]); }
})();
