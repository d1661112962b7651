// The oversight dashboard's charts: data from the page's json_script (no inline script: CSP).
(function () {
  "use strict";
  var holder = document.getElementById("oversight-chart-data");
  if (!holder || typeof echarts === "undefined") return;
  var data = JSON.parse(holder.textContent);
  var L = data.labels;
  var S = data.series;
  function bars(title, names, series) {
    return {
      title: { text: title, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { top: 24 },
      grid: { top: 60, left: 40, right: 10, bottom: 60 },
      xAxis: { type: "category", data: names, axisLabel: { rotate: 30 } },
      yAxis: { type: "value" },
      series: series,
    };
  }
  var options = {
    progress: bars(L.progress, data.names, [
      { name: L.required, type: "bar", data: S.required },
      { name: L.drawn, type: "bar", data: S.drawn },
      { name: L.inspected, type: "bar", data: S.inspected },
    ]),
    disclosure: bars(L.disclosure, data.names, [
      { name: L.disclosure, type: "bar", data: S.disclosure, markLine: { data: [{ yAxis: 100 }] } },
    ]),
    joint: bars(L.joint, data.names, [{ name: L.joint, type: "bar", data: S.joint }]),
    over_time: bars(L.over_time, data.over_time.quarters, [
      { name: L.over_time, type: "line", data: data.over_time.rates, markLine: { data: [{ yAxis: 100 }] } },
    ]),
    mix: {
      title: { text: L.mix, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: "60%", top: 30, data: data.mix }],
    },
  };
  document.querySelectorAll(".oversight-chart").forEach(function (el) {
    var option = options[el.getAttribute("data-chart")];
    if (!option) return;
    var chart = echarts.init(el);
    chart.setOption(option);
    el.setAttribute("data-rendered", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
