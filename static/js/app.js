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

  /* "YYYY-MM-DDTHH:MM" now in the business time zone (the form says which), for datetime-local inputs. */
  function nowIn(timeZone) {
    try {
      var parts = {};
      new Intl.DateTimeFormat("en-GB", {
        timeZone: timeZone || undefined, hourCycle: "h23",
        year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"
      }).formatToParts(new Date()).forEach(function (part) { parts[part.type] = part.value; });
      return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
    } catch (error) {
      return "";
    }
  }

  /* Forms marked data-inplace are posted in the background: a refused form comes back as the form
     alone (errors beside the fields) and replaces this one; a stored one says where to go next.
     Anything else (a session expired, a server error) falls back to an ordinary post. */
  function wireInplace(root) {
    root.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.matches || !form.matches("form[data-inplace]") || !window.fetch) return;
      event.preventDefault();
      var button = form.querySelector("[type=submit]");
      if (button) button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Inplace": "1", Accept: "application/json, text/html" }
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.ok && type.indexOf("application/json") === 0) {
          return response.json().then(function (body) { go(body.location); });
        }
        if (response.status === 400 && type.indexOf("text/html") === 0) {
          return response.text().then(function (html) { swap(form, html); });
        }
        HTMLFormElement.prototype.submit.call(form);
      }).catch(function () {
        HTMLFormElement.prototype.submit.call(form);
      });
    });
  }

  function go(location) {
    var target = new URL(location, window.location.href);
    var here = window.location;
    if (target.pathname === here.pathname && target.search === here.search) {
      if (target.hash) here.hash = target.hash;
      here.reload();
    } else {
      here.assign(target.href);
    }
  }

  function swap(form, html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fresh = holder.querySelector("form");
    if (!fresh) { HTMLFormElement.prototype.submit.call(form); return; }
    form.replaceWith(fresh);
    paintTiers(fresh);
    var invalid = fresh.querySelector("[aria-invalid=true], .field--invalid input, .field--invalid select, .field--invalid textarea");
    if (invalid) invalid.focus();
  }

  /* "Log a call" / "Log a visit": open the activity form in place, set to that kind and to now. */
  function wireQuickLog(root) {
    root.querySelectorAll("[data-log-kind]").forEach(function (button) {
      button.addEventListener("click", function () {
        var details = document.getElementById(button.getAttribute("aria-controls"));
        if (!details) return;
        details.open = true;
        var form = details.querySelector("form");
        if (!form) return;
        var kind = form.querySelector("select[name=kind]");
        if (kind) kind.value = button.getAttribute("data-log-kind");
        var when = form.querySelector("input[name=occurred_at]");
        var now = nowIn(form.getAttribute("data-time-zone"));
        if (when && now) when.value = now;
        var next = form.querySelector("input[name=outcome]") || kind;
        if (next) next.focus();
      });
    });
  }

  /* The customer list's filters sit behind their "Filters" button on phones; on wider screens the
     button is hidden (app.css), so the panel opens again whenever the window is wide. */
  function wireFiltersPanel(root) {
    var phone = window.matchMedia("(max-width: 640px)");
    root.querySelectorAll("[data-filters-panel]").forEach(function (panel) {
      var fit = function () {
        if (!phone.matches) panel.open = true;
        else if (!panel.hasAttribute("data-keep-open")) panel.open = false;  // open while a filter is wrong
      };
      fit();
      phone.addEventListener("change", fit);
    });
  }

  /* A case's first-response countdown: [data-deadline] (ISO time) counts down each second with the
     translated labels the page gives ("%(time)s left", "Overdue by %(time)s", "%(days)d d"), and
     turns red (countdown--overdue) once the deadline has passed. */
  function two(n) { return (n < 10 ? "0" : "") + n; }

  function wireCountdowns(root) {
    var clocks = Array.prototype.slice.call(root.querySelectorAll("[data-deadline]"));
    if (!clocks.length) return;
    var tick = function () {
      var now = Date.now();
      clocks.forEach(function (el) {
        var deadline = Date.parse(el.getAttribute("data-deadline"));
        if (isNaN(deadline)) return;
        var left = Math.round((deadline - now) / 1000);
        var rest = Math.abs(left);
        var days = Math.floor(rest / 86400);
        var time = two(Math.floor((rest % 86400) / 3600)) + ":" + two(Math.floor((rest % 3600) / 60)) + ":" + two(rest % 60);
        if (days) time = (el.getAttribute("data-label-days") || "%(days)d d").replace("%(days)d", days) + " " + time;
        var overdue = left < 0;
        var label = el.getAttribute(overdue ? "data-label-overdue" : "data-label-left") || "%(time)s";
        el.textContent = label.replace("%(time)s", time);
        el.classList.toggle("countdown--overdue", overdue);
        el.classList.toggle("overdue", overdue);
        el.classList.toggle("countdown--running", !overdue);
        var box = el.closest(".deadline");
        if (box) box.classList.toggle("deadline--overdue", overdue);
      });
    };
    tick();
    window.setInterval(tick, 1000);
  }

  ready(function () {
    wireCountdowns(document);
    wireFiltersPanel(document);
    paintTiers(document);
    wireSelectAll(document);
    wireAutosubmit(document);
    pollRuns(document);
    wireInplace(document);
    wireQuickLog(document);
  });
})();
