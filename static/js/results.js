/* Small trend charts of the results page: one line per tier over the quarters asked. Data and
   labels come from each figure's json_script block (id "<canvas id>-data"). */
(function () {
  "use strict";

  var COLOUR = /^#[0-9a-fA-F]{6}$/;

  function format(unit, value) {
    if (value === null || value === undefined) return "—";
    if (unit === "percent") return value.toFixed(1) + "%";
    if (unit === "change") return (value > 0 ? "+" : "") + value.toFixed(1) + "%";
    if (unit === "amount") return "¥" + value.toLocaleString(undefined, { maximumFractionDigits: 0 });
    return value.toLocaleString();
  }

  function draw() {
    if (!window.Chart) return;
    var Chart = window.Chart;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = "#4b5563";
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.animation = window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : { duration: 300 };
    document.querySelectorAll("canvas[id^='results-chart-']").forEach(function (canvas) {
      var holder = document.getElementById(canvas.id + "-data");
      if (!holder) return;
      var chart = JSON.parse(holder.textContent);
      new Chart(canvas, {
        type: "line",
        data: {
          labels: chart.labels,
          datasets: chart.datasets.map(function (set) {
            var colour = COLOUR.test(set.colour) ? set.colour : "#6b7280";
            return {
              label: set.label, data: set.data, borderColor: colour, backgroundColor: colour,
              tension: 0.2, pointRadius: 3, spanGaps: true, borderWidth: 2,
            };
          }),
        },
        options: {
          scales: {
            x: { grid: { display: false } },
            y: { beginAtZero: chart.unit !== "change", ticks: { maxTicksLimit: 4, callback: function (v) { return format(chart.unit, v); } } },
          },
          plugins: {
            legend: { position: "bottom", labels: { boxWidth: 10, boxHeight: 10 } },
            tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + format(chart.unit, ctx.parsed.y); } } },
          },
        },
      });
    });
  }

  if (document.readyState !== "loading") draw();
  else document.addEventListener("DOMContentLoaded", draw);
})();
