/* Hazard report form: photos upload while the person types, a draft survives a reload,
   the phone's location on request. ES5 for old WeChat WebViews; the form works without it. */
(function () {
  "use strict";
  var form = document.querySelector(".report-form");
  var receipt = document.querySelector("[data-clear-draft]");
  if (receipt) {
    try { window.localStorage.removeItem(receipt.getAttribute("data-clear-draft")); } catch (e) { /* private mode */ }
  }
  if (!form) { return; }

  var tokensField = form.querySelector("input[name=photo_tokens]");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var photoState = form.querySelector("[data-photo-state]");
  var draftKey = form.getAttribute("data-draft");
  var pending = 0;

  function tokens() {
    var list = [];
    var slots = form.querySelectorAll(".photo-slot");
    for (var i = 0; i < slots.length; i++) {
      var token = slots[i].getAttribute("data-token");
      if (token) { list.push(token); }
    }
    return list;
  }

  function say(text, isError) {
    photoState.textContent = text;
    photoState.className = isError ? "error" : "hint";
  }

  function upload(slot, input) {
    var file = input.files && input.files[0];
    if (!file) { return; }
    var data = new FormData();
    data.append("csrf_token", csrf);
    data.append("photo", file);
    var request = new XMLHttpRequest();
    request.open("POST", form.getAttribute("data-upload-url"));
    request.setRequestHeader("X-Requested-With", "fetch");
    request.timeout = 120000;
    pending += 1;
    slot.className = "photo-slot is-uploading";
    slot.querySelector(".photo-caption").textContent = "上传中…";
    say("照片上传中，可以继续填写。", false);
    function done(ok, message) {
      pending -= 1;
      if (!ok) {
        slot.className = "photo-slot";
        slot.removeAttribute("data-token");
        slot.querySelector(".photo-caption").textContent = "拍照或选图";
        say(message, true);
      }
      tokensField.value = tokens().join(",");
    }
    request.onload = function () {
      var body = {};
      try { body = JSON.parse(request.responseText); } catch (e) { body = {}; }
      if (request.status === 200 && body.token) {
        slot.setAttribute("data-token", body.token);
        slot.className = "photo-slot has-photo";
        var preview = slot.querySelector(".photo-preview");
        preview.src = body.preview;
        preview.hidden = false;
        slot.querySelector(".photo-caption").textContent = "已上传";
        input.value = ""; /* already on the server: do not send it again with the form */
        say("照片已上传，拍摄地点等信息已去除。", false);
        done(true);
      } else {
        input.value = "";
        done(false, body.error || "照片上传失败，请重试。");
      }
    };
    request.onerror = request.ontimeout = function () {
      done(false, "网络不太好，照片没有传上去；可以重新选择，或提交时一起发送。");
    };
    request.send(data);
  }

  var slots = form.querySelectorAll(".photo-slot");
  for (var i = 0; i < slots.length; i++) {
    (function (slot) {
      var input = slot.querySelector(".photo-input");
      input.addEventListener("change", function () { upload(slot, input); });
    })(slots[i]);
  }

  form.addEventListener("submit", function (event) {
    if (pending > 0) {
      event.preventDefault();
      say("照片还在上传，请稍等片刻再提交。", true);
      return;
    }
    tokensField.value = tokens().join(",");
    var button = form.querySelector("button[type=submit]");
    window.setTimeout(function () { button.disabled = true; button.textContent = "正在提交…"; }, 0);
  });

  /* Anonymous hides the name and phone. */
  var anonymous = form.querySelector("[data-anonymous]");
  var identity = form.querySelector("[data-identity]");
  function showIdentity() { identity.hidden = anonymous.checked; }
  anonymous.addEventListener("change", showIdentity);
  showIdentity();

  /* Location, only when the person asks for it. */
  var locate = form.querySelector("[data-locate]");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    var state = locate.querySelector("[data-locate-state]");
    locate.querySelector("[data-locate-button]").addEventListener("click", function () {
      state.textContent = "正在获取位置…";
      navigator.geolocation.getCurrentPosition(function (position) {
        form.querySelector("input[name=latitude]").value = position.coords.latitude.toFixed(6);
        form.querySelector("input[name=longitude]").value = position.coords.longitude.toFixed(6);
        state.textContent = "已附上位置";
      }, function () {
        state.textContent = "没有取得位置，写清楚具体位置即可。";
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  /* A draft of the text survives a reload or a lost connection. */
  var kept = ["category", "place", "description"];
  function saveDraft() {
    var draft = {};
    for (var k = 0; k < kept.length; k++) { draft[kept[k]] = form.elements[kept[k]].value; }
    try { window.localStorage.setItem(draftKey, JSON.stringify(draft)); } catch (e) { /* full or private */ }
  }
  try {
    var saved = JSON.parse(window.localStorage.getItem(draftKey) || "null");
    if (saved) {
      for (var n = 0; n < kept.length; n++) {
        var field = form.elements[kept[n]];
        if (field && !field.value && saved[kept[n]]) { field.value = saved[kept[n]]; }
      }
    }
  } catch (e) { /* no storage */ }
  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);
})();
