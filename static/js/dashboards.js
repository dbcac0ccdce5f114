// The dashboards' charts (Chart.js) and map (Leaflet), read from the page's json_script tags (no inline script:
// CSP). Right to left in Arabic: the category axis runs from the right, the value axis sits on the right, legends
// and tooltips read right to left, and numbers are written by Intl.NumberFormat in the page's language. Every bar
// and every country opens the list behind it. Amounts arrive as exact decimal text and become numbers only to be
// drawn.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "ar";
  var numbers = new Intl.NumberFormat(lang);
  var palette = ["#0b5d5b", "#2c7be5", "#c0392b", "#f39c12", "#6f42c1", "#20c997", "#6c757d", "#d63384"];

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function go(url) {
    if (url) {
      window.location.assign(url);
    }
  }

  function drawCharts(data) {
    if (!data || typeof window.Chart === "undefined") {
      return;
    }
    var rtl = Boolean(data.rtl);
    window.shafafDashboardCharts = [];
    data.charts.forEach(function (spec) {
      var canvas = document.getElementById(spec.id);
      if (!canvas) {
        return;
      }
      var datasets;
      if (spec.kind === "money") {
        datasets = spec.series.map(function (series, index) {
          return {
            label: series.label,
            data: series.values.map(Number),
            backgroundColor: palette[index % palette.length]
          };
        });
      } else {
        datasets = [{ label: spec.label, data: spec.values, backgroundColor: palette[0] }];
      }
      var chart = new window.Chart(canvas, {
        type: "bar",
        data: { labels: spec.labels, datasets: datasets },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          locale: lang,
          onClick: function (event, elements) {
            if (elements.length) {
              go(spec.links[elements[0].index]);
            }
          },
          onHover: function (event, elements) {
            event.native.target.style.cursor = elements.length ? "pointer" : "default";
          },
          plugins: {
            legend: { display: spec.kind === "money", rtl: rtl, position: "bottom", textDirection: rtl ? "rtl" : "ltr" },
            tooltip: {
              rtl: rtl,
              textDirection: rtl ? "rtl" : "ltr",
              callbacks: {
                label: function (context) {
                  return context.dataset.label + ": " + numbers.format(context.parsed.y);
                }
              }
            }
          },
          scales: {
            x: { reverse: rtl, ticks: { autoSkip: false, maxRotation: 60 } },
            y: {
              position: rtl ? "right" : "left",
              beginAtZero: true,
              ticks: {
                callback: function (value) {
                  return numbers.format(value);
                }
              }
            }
          }
        }
      });
      window.shafafDashboardCharts.push(chart);
      canvas.dataset.chartReady = "true";
    });
  }

  function colour(count, max) {
    if (!count) {
      return "#f1f3f5";
    }
    var share = Math.sqrt(count / max);
    var steps = ["#d8f0ef", "#a6dcd9", "#6cc1bc", "#2f9a94", "#0b5d5b"];
    return steps[Math.min(steps.length - 1, Math.floor(share * steps.length))];
  }

  function drawMap(config) {
    var node = document.getElementById("dashboard-map");
    if (!config || !node || typeof window.L === "undefined") {
      return;
    }
    var map = window.L.map(node, { worldCopyJump: true, attributionControl: Boolean(config.tiles) }).setView([20, 30], 2);
    if (config.tiles) {
      window.L.tileLayer(config.tiles, { attribution: config.attribution || "", maxZoom: 12 }).addTo(map);
    }
    window.shafafDashboardMap = map;
    Promise.all([
      fetch(config.boundaries, { credentials: "same-origin" }).then(function (r) { return r.json(); }),
      fetch(config.data, { credentials: "same-origin" }).then(function (r) { return r.json(); })
    ]).then(function (results) {
      var boundaries = results[0];
      var data = results[1];
      var byCode = {};
      var max = 0;
      data.countries.forEach(function (row) {
        byCode[row.code] = row;
        max = Math.max(max, row.count);
      });
      var layer = window.L.geoJSON(boundaries, {
        style: function (feature) {
          var row = byCode[feature.properties.iso_a2];
          return {
            color: "#8a949e",
            weight: 0.6,
            fillOpacity: config.tiles ? 0.55 : 0.9,
            fillColor: colour(row ? row.count : 0, max || 1)
          };
        },
        onEachFeature: function (feature, shape) {
          var row = byCode[feature.properties.iso_a2];
          if (!row) {
            return;
          }
          shape.bindTooltip(row.label + ": " + numbers.format(row.count) + " " + config.label, { sticky: true });
          shape.on("click", function () { go(row.url); });
        }
      }).addTo(map);
      node.dataset.countries = String(layer.getLayers().length);
      node.dataset.shaded = String(data.countries.length);
      var largest = data.cells.reduce(function (m, cell) { return Math.max(m, cell.count); }, 1);
      data.cells.forEach(function (cell) {
        window.L.circleMarker([cell.lat, cell.lon], {
          radius: 3 + 12 * Math.sqrt(cell.count / largest),
          color: "#c0392b",
          weight: 1,
          fillOpacity: 0.6
        }).bindTooltip(numbers.format(cell.count)).addTo(map);
      });
      node.dataset.cells = String(data.cells.length);
      node.dataset.ready = "true";
    }).catch(function () {
      node.dataset.ready = "error";
    });
  }

  drawCharts(read("dashboard-data"));
  drawMap(read("dashboard-map-config"));
})();
