// The S-curve of a project's earned-value page: cumulative planned value against actual cost (and today's earned
// value), read from the page's json_script tag (no inline script: CSP). Amounts arrive as exact decimal text and
// become numbers here only to be drawn.
(function () {
  "use strict";
  var canvas = document.getElementById("s-curve");
  var source = document.getElementById("s-curve-data");
  if (!canvas || !source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  function numbers(values) {
    return values.map(function (value) {
      return value === null ? null : Number(value);
    });
  }
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: data.names.pv, data: numbers(data.pv), borderColor: "#0b5d5b", backgroundColor: "#0b5d5b", tension: 0 },
        { label: data.names.ac, data: numbers(data.ac), borderColor: "#c0392b", backgroundColor: "#c0392b", tension: 0, spanGaps: false },
        { label: data.names.ev, data: numbers(data.ev), borderColor: "#2c7be5", backgroundColor: "#2c7be5", showLine: false, pointRadius: 6 }
      ]
    },
    options: {
      animation: false,
      responsive: true,
      locale: "en",
      plugins: {
        legend: { rtl: data.rtl, position: "bottom" },
        tooltip: { rtl: data.rtl }
      },
      scales: {
        x: { reverse: data.rtl },
        y: { position: data.rtl ? "right" : "left", title: { display: true, text: data.currency }, beginAtZero: true }
      }
    }
  });
})();
