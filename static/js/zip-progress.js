/* Poll the ZIP job and show its progress; ES5. */
(function () {
  "use strict";
  var box = document.querySelector("[data-zip-status]");
  if (!box) { return; }
  var text = box.querySelector("[data-zip-text]");
  var bar = box.querySelector("[data-zip-bar]");
  var link = box.querySelector("[data-zip-download]");
  function poll() {
    var request = new XMLHttpRequest();
    request.open("GET", box.getAttribute("data-zip-status"));
    request.onload = function () {
      if (request.status !== 200) { text.textContent = "生成失败，请返回重试。"; return; }
      var status = JSON.parse(request.responseText);
      bar.max = status.total || 1;
      bar.value = status.done;
      if (status.finished) {
        text.textContent = "已生成 " + status.total + " 个二维码（PNG 和 SVG 各一份）。";
        link.hidden = false;
      } else {
        text.textContent = "正在生成：" + status.done + " / " + status.total;
        setTimeout(poll, 500);
      }
    };
    request.send();
  }
  poll();
}());
