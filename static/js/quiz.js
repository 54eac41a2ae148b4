/* One question per screen, a countdown, and autosave. Written in ES5 for old
   Android WebViews; without it the paper is a plain form that still submits. */
(function () {
  "use strict";
  var form = document.getElementById("paper");
  if (!form || !window.FormData || !form.querySelector) { return; }
  document.documentElement.className += " js";

  var questions = form.querySelectorAll(".question");
  var total = questions.length;
  var prevButton = form.querySelector("[data-prev]");
  var nextButton = form.querySelector("[data-next]");
  var submitButton = form.querySelector("[data-submit]");
  var progress = form.querySelector(".quiz-progress");
  var progressText = form.querySelector(".quiz-progress-text");
  var countdown = form.querySelector("[data-countdown]");
  var saveState = form.querySelector("[data-save-state]");
  var current = 0;
  var submitting = false;
  // The server's clock rules; this only shows it. Counting from when the page
  // arrived errs on the late side, which the server's grace period absorbs.
  var deadline = Date.now() + parseInt(form.getAttribute("data-ms-left"), 10);

  function isAnswered(fieldset) {
    return fieldset.querySelector("input:checked") !== null;
  }

  function answeredCount() {
    var count = 0;
    for (var i = 0; i < total; i++) { if (isAnswered(questions[i])) { count++; } }
    return count;
  }

  function markChecked() {
    // :has() is missing in older WebViews, so mirror the checked state on the label.
    var labels = form.querySelectorAll(".option");
    for (var i = 0; i < labels.length; i++) {
      var input = labels[i].querySelector("input");
      labels[i].className = "option" + (input.checked ? " is-checked" : "");
    }
  }

  function show(index) {
    current = Math.max(0, Math.min(total - 1, index));
    for (var i = 0; i < total; i++) {
      questions[i].className = "question" + (i === current ? " is-current" : "");
    }
    progressText.textContent = "第 " + (current + 1) + " / " + total + " 题 · 已答 " + answeredCount();
    progress.value = answeredCount();
    prevButton.hidden = current === 0;
    nextButton.hidden = current === total - 1;
    submitButton.hidden = current !== total - 1;
    window.scrollTo(0, 0);
  }

  var saveTimer = null;
  var changes = 0;   // answers changed on this page
  var savedUpTo = 0; // the change the server has confirmed

  function save() {
    if (submitting) { return; }
    var sentAt = changes;
    var request = new XMLHttpRequest();
    request.open("POST", form.getAttribute("data-save-url"));
    request.setRequestHeader("X-Requested-With", "fetch");
    request.onload = function () {
      if (request.status === 200) {
        savedUpTo = Math.max(savedUpTo, sentAt);
        if (savedUpTo === changes) { saveState.textContent = "答案已保存"; }
      } else if (request.status === 409) {
        var data = {};
        try { data = JSON.parse(request.responseText); } catch (e) { data = {}; }
        if (data.result_url) { window.location.href = data.result_url; }
      } else {
        saveState.textContent = "保存失败，交卷时会一并提交";
      }
    };
    request.onerror = function () { saveState.textContent = "网络不稳，答案暂存在本页，交卷时会一并提交"; };
    request.send(new FormData(form));
  }

  form.addEventListener("change", function () {
    changes++;
    saveState.textContent = "正在保存…";
    markChecked();
    progress.value = answeredCount();
    progressText.textContent = "第 " + (current + 1) + " / " + total + " 题 · 已答 " + answeredCount();
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, 300);
  });

  // Leaving or reloading with an answer not yet saved: send it on the way out.
  window.addEventListener("pagehide", function () {
    if (!submitting && savedUpTo < changes && navigator.sendBeacon) {
      clearTimeout(saveTimer);
      navigator.sendBeacon(form.getAttribute("data-save-url"), new FormData(form));
    }
  });

  prevButton.addEventListener("click", function () { show(current - 1); });
  nextButton.addEventListener("click", function () { show(current + 1); });

  form.addEventListener("submit", function (event) {
    if (submitting) { event.preventDefault(); return; }
    var missing = total - answeredCount();
    if (missing > 0 && Date.now() < deadline &&
        !window.confirm("还有 " + missing + " 题没有作答，确定交卷吗？")) {
      event.preventDefault();
      return;
    }
    submitting = true;
    submitButton.disabled = true;
    submitButton.textContent = "正在交卷…";
  });

  function tick() {
    var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    var minutes = Math.floor(left / 60);
    var seconds = left % 60;
    countdown.textContent = "剩余 " + minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
    countdown.className = "countdown" + (left <= 30 ? " is-low" : "");
    if (left === 0) {
      if (!submitting) {
        submitting = true;
        saveState.textContent = "时间到，正在交卷…";
        form.submit();
      }
      return;
    }
    setTimeout(tick, 1000 - (Date.now() % 1000));
  }

  markChecked();
  show(0);
  for (var i = 0; i < total; i++) {
    if (!isAnswered(questions[i])) { show(i); break; }
  }
  tick();
}());
