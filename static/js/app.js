/* Small behaviours of every page. No inline scripts: the Content-Security-Policy only allows this file. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  var COLOUR = /^#[0-9a-fA-F]{6}$/;

  /* Tier colours are edited by administrators; they reach CSS as a custom property, never a style attribute. */
  function paintTiers(root) {
    root.querySelectorAll("[data-tier-colour]").forEach(function (el) {
      var colour = el.getAttribute("data-tier-colour");
      if (COLOUR.test(colour)) el.style.setProperty("--tier", colour);
    });
  }

  /* A "select all" checkbox ticks every checkbox with the given name in its form. */
  function wireSelectAll(root) {
    root.querySelectorAll("[data-select-all]").forEach(function (master) {
      var name = master.getAttribute("data-select-all");
      var boxes = function () {
        return master.form.querySelectorAll('input[type="checkbox"][name="' + name + '"]');
      };
      master.addEventListener("change", function () {
        boxes().forEach(function (box) { box.checked = master.checked; });
      });
    });
  }

  function wireAutosubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  /* Live progress of a running tier run: poll its JSON until it finishes, then reload the page. */
  function pollRuns(root) {
    root.querySelectorAll("[data-run-progress]").forEach(function (box) {
      var url = box.getAttribute("data-run-progress");
      var bar = box.querySelector("progress");
      var set = function (selector, value) {
        var el = box.querySelector(selector);
        if (el) el.textContent = value;
      };
      var tick = function () {
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
          .then(function (run) {
            bar.value = run.percent;
            bar.textContent = run.percent + "%";
            set("[data-run-status]", run.statusLabel);
            set("[data-run-done]", run.done.toLocaleString());
            set("[data-run-total]", run.total.toLocaleString());
            if (run.finished) window.location.reload();
            else window.setTimeout(tick, 2000);
          })
          .catch(function () { window.setTimeout(tick, 5000); });
      };
      window.setTimeout(tick, 1000);
    });
  }

  ready(function () {
    paintTiers(document);
    wireSelectAll(document);
    wireAutosubmit(document);
    pollRuns(document);
  });
})();
