/* A searchable unit list over the plain <select>; ES5 for old WebViews. */
(function () {
  "use strict";
  var select = document.querySelector("[data-unit-picker]");
  if (!select || !window.JSON || !document.querySelector) { return; }

  var wrapper = document.createElement("div");
  var search = document.createElement("input");
  search.type = "search";
  search.className = "picker-search";
  search.placeholder = "输入单位名称搜索，如“东门”";
  search.setAttribute("aria-label", "搜索单位");
  var list = document.createElement("ul");
  list.className = "picker-list";
  wrapper.appendChild(search);
  wrapper.appendChild(list);

  var units = [];
  var byCode = {};

  function label(unit) {
    var parent = byCode[unit.parent_code];
    return (parent && parent.kind !== "district" ? parent.name + " · " : "") + unit.name;
  }

  function render() {
    var query = search.value.replace(/\s+/g, "");
    list.innerHTML = "";
    var shown = 0;
    for (var i = 0; i < units.length; i++) {
      var unit = units[i];
      if (unit.kind === "district") { continue; }
      var text = label(unit);
      if (query && text.replace(/\s+/g, "").indexOf(query) === -1) { continue; }
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.setAttribute("data-code", unit.code);
      button.appendChild(document.createTextNode(text));
      var kind = document.createElement("small");
      kind.appendChild(document.createTextNode(unit.kind_label));
      button.appendChild(kind);
      if (select.value === unit.code) { button.className = "is-chosen"; }
      item.appendChild(button);
      list.appendChild(item);
      shown++;
    }
    if (!shown) {
      var empty = document.createElement("li");
      empty.className = "picker-group";
      empty.appendChild(document.createTextNode("没有找到，请换个关键词"));
      list.appendChild(empty);
    }
  }

  list.addEventListener("click", function (event) {
    var target = event.target;
    while (target && target !== list && !target.getAttribute("data-code")) { target = target.parentNode; }
    if (!target || target === list) { return; }
    select.value = target.getAttribute("data-code");
    search.value = "";
    render();
  });
  search.addEventListener("input", render);
  select.addEventListener("change", render);

  var request = new XMLHttpRequest();
  request.open("GET", select.getAttribute("data-unit-picker"));
  request.onload = function () {
    if (request.status !== 200) { return; }
    try { units = JSON.parse(request.responseText).units; } catch (e) { return; }
    for (var i = 0; i < units.length; i++) { byCode[units[i].code] = units[i]; }
    select.parentNode.insertBefore(wrapper, select.nextSibling);
    render();
  };
  request.send();
}());
