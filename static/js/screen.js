/* Refresh the big screen from /api/leaderboard every 10 seconds; keep the last figures on error. */
(function () {
  "use strict";
  var screen = document.querySelector("[data-api]");
  if (!screen) { return; }
  function text(tag, value, className) {
    var node = document.createElement(tag);
    node.appendChild(document.createTextNode(String(value)));
    if (className) { node.className = className; }
    return node;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function render(data) {
    var totals = screen.querySelectorAll("[data-total]");
    for (var i = 0; i < totals.length; i++) {
      totals[i].textContent = data.totals[totals[i].getAttribute("data-total")];
    }
    screen.querySelector("[data-metric]").textContent = data.metric.label;
    var byPoints = data.metric.value === "points";
    var units = screen.querySelector("[data-units]");
    clear(units);
    data.units.slice(0, 10).forEach(function (unit) {
      var item = document.createElement("li");
      if (!unit.started) { item.className = "idle"; }
      item.appendChild(text("b", unit.started ? unit.rank : "—"));
      item.appendChild(text("span", unit.short_name));
      item.appendChild(text("em", byPoints ? unit.points : unit.average));
      item.appendChild(text("small", unit.participants + " 人"));
      units.appendChild(item);
    });
    var people = screen.querySelector("[data-people]");
    clear(people);
    data.people.forEach(function (person) {
      var item = document.createElement("li");
      item.appendChild(text("b", person.rank));
      item.appendChild(text("span", person.name));
      item.appendChild(text("small", person.unit));
      item.appendChild(text("em", byPoints ? person.points : person.score));
      people.appendChild(item);
    });
    var chart = screen.querySelector("[data-chart-img]");
    chart.src = screen.getAttribute("data-chart") + "?t=" + Date.now();
    var now = new Date();
    screen.querySelector("[data-updated]").textContent = "更新于 " + now.getHours() + ":" +
      (now.getMinutes() < 10 ? "0" : "") + now.getMinutes() + ":" + (now.getSeconds() < 10 ? "0" : "") + now.getSeconds();
  }
  function refresh() {
    var request = new XMLHttpRequest();
    request.open("GET", screen.getAttribute("data-api"));
    request.onload = function () {
      if (request.status === 200) {
        try { render(JSON.parse(request.responseText)); } catch (e) { /* keep the last figures */ }
      }
      setTimeout(refresh, 10000);
    };
    request.onerror = function () { setTimeout(refresh, 10000); };
    request.send();
  }
  setTimeout(refresh, 10000);
}());
