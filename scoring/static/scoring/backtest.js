/* Backtest report: follow a running backtest's progress, then reload to show its report.
   A file, not an inline script: the Content-Security-Policy allows scripts from the site only. */
(function () {
  "use strict";
  function follow(box) {
    var url = box.getAttribute("data-backtest-progress");
    var bar = box.querySelector("progress");
    var set = function (selector, value) {
      var el = box.querySelector(selector);
      if (el) el.textContent = value;
    };
    var tick = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (state) {
          bar.value = state.percent;
          bar.textContent = state.percent + "%";
          set("[data-progress-percent]", state.percent);
          set("[data-progress-stage]", state.stage);
          set("[data-progress-status]", state.statusLabel);
          if (state.finished) window.location.reload();
          else window.setTimeout(tick, 1500);
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    };
    window.setTimeout(tick, 1000);
  }
  function ready() {
    document.querySelectorAll("[data-backtest-progress]").forEach(follow);
  }
  if (document.readyState !== "loading") ready();
  else document.addEventListener("DOMContentLoaded", ready);
})();
