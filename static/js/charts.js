/* Charts of the dashboard and the customer page. Data and translated labels come from json_script blocks. */
(function () {
  "use strict";

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function alpha(hex, opacity) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + ((n >> 16) & 255) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + opacity + ")";
  }

  function draw() {
    if (!window.Chart) return;
    var Chart = window.Chart;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = "#4b5563";
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.animation = window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : { duration: 400 };

    var tiers = data("tier-chart-data");
    if (tiers) {
      /* Horizontal bars, highest tier on top: reads like the method's pyramid, with the target beside it. */
      new Chart(document.getElementById("tier-chart"), {
        type: "bar",
        data: {
          labels: tiers.labels,
          datasets: [
            { label: tiers.actualLabel, data: tiers.actual, backgroundColor: tiers.colours, borderRadius: 4, barPercentage: 0.9 },
            {
              label: tiers.targetLabel, data: tiers.target, borderRadius: 4, barPercentage: 0.9,
              backgroundColor: tiers.colours.map(function (c) { return alpha(c, 0.18); }),
              borderColor: tiers.colours, borderWidth: 1.5,
            },
          ],
        },
        options: {
          indexAxis: "y",
          scales: { x: { beginAtZero: true, ticks: { callback: function (v) { return v + "%"; } } }, y: { grid: { display: false } } },
          plugins: {
            legend: {
              position: "bottom",
              labels: {
                /* Each bar has its tier's colour; the legend shows the style (solid = actual, pale = target). */
                generateLabels: function () {
                  return [
                    { text: tiers.actualLabel, fillStyle: "#4b5563", strokeStyle: "#4b5563", lineWidth: 0, datasetIndex: 0 },
                    { text: tiers.targetLabel, fillStyle: "rgba(75,85,99,.18)", strokeStyle: "#4b5563", lineWidth: 1.5, datasetIndex: 1 },
                  ];
                },
              },
            },
            tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + ctx.parsed.x + "%"; } } },
          },
        },
      });
    }

    var breakdown = data("breakdown-chart-data");
    if (breakdown) {
      var missing = breakdown.possible.map(function (max, i) { return Math.max(0, +(max - breakdown.earned[i]).toFixed(2)); });
      new Chart(document.getElementById("breakdown-chart"), {
        type: "bar",
        data: {
          labels: breakdown.labels,
          datasets: [
            { label: breakdown.earnedLabel, data: breakdown.earned, backgroundColor: "#1e40af", borderRadius: 3, stack: "points" },
            { label: breakdown.possibleLabel, data: missing, backgroundColor: "#e5e7eb", borderRadius: 3, stack: "points" },
          ],
        },
        options: {
          indexAxis: "y",
          scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true, grid: { display: false } } },
          plugins: {
            legend: { position: "bottom" },
            tooltip: {
              callbacks: {
                label: function (ctx) {
                  var i = ctx.dataIndex;
                  return ctx.datasetIndex === 0
                    ? breakdown.earnedLabel + ": " + breakdown.earned[i] + " / " + breakdown.possible[i]
                    : breakdown.possibleLabel + ": " + breakdown.possible[i];
                },
              },
            },
          },
        },
      });
    }

    var history = data("history-chart-data");
    if (history) {
      new Chart(document.getElementById("history-chart"), {
        type: "line",
        data: {
          labels: history.labels,
          datasets: [{
            label: history.scoreLabel, data: history.scores, borderColor: "#1e40af", backgroundColor: "rgba(30,64,175,.08)",
            fill: true, tension: 0.25, pointRadius: 5, pointHoverRadius: 7,
            pointBackgroundColor: history.colours, pointBorderColor: "#fff", pointBorderWidth: 1.5,
          }],
        },
        options: {
          scales: { y: { suggestedMin: 0, suggestedMax: 100 } },
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                /* Two decimals, as every score on the page reads (78.50, not 78.5). */
                label: function (ctx) { return history.scoreLabel + ": " + ctx.parsed.y.toFixed(2); },
                afterLabel: function (ctx) { return history.tierLabel + ": " + history.tiers[ctx.dataIndex]; },
              },
            },
          },
        },
      });
    }
  }

  if (document.readyState !== "loading") draw();
  else document.addEventListener("DOMContentLoaded", draw);
})();
