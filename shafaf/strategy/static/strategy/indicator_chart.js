// The charts of the objective and indicator pages: target against actual per period, read from each canvas's
// json_script tag (no inline script: CSP). Values arrive as exact decimal text and become numbers only to be
// drawn. Right to left, the periods run from the right and the value axis stands on the right.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  function numbers(values) {
    return values.map(function (value) {
      return value === null ? null : Number(value);
    });
  }
  document.querySelectorAll("canvas[data-chart-source]").forEach(function (canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart-source"));
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { type: "bar", label: data.names.target, data: numbers(data.target), backgroundColor: "rgba(11, 93, 91, 0.35)", borderColor: "#0b5d5b", borderWidth: 1, maxBarThickness: 64 },
          { type: "line", label: data.names.actual, data: numbers(data.actual), borderColor: "#c0392b", backgroundColor: "#c0392b", tension: 0, spanGaps: false }
        ]
      },
      options: {
        animation: false,
        responsive: true,
        aspectRatio: 2.5,
        locale: "en",
        plugins: {
          legend: { rtl: data.rtl, position: "bottom" },
          tooltip: { rtl: data.rtl }
        },
        scales: {
          x: { reverse: data.rtl },
          y: { position: data.rtl ? "right" : "left", title: { display: true, text: data.unit }, beginAtZero: true }
        }
      }
    });
  });
})();
