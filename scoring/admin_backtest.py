"""Admin for backtests and weight suggestions: start one, watch its progress, read its report,
download its misplaced customers, and open a suggestion's simulation.

Starting goes through scoring.backtest_services (the same checks as the API); the computation
runs in a task and writes only the Backtest row. A suggestion is never applied: "Open its
simulation" posts the profile's change form with the suggested weights to the existing
simulation, and saving still happens on the profile's page, with a reason.
"""

from __future__ import annotations

import csv
import datetime
import json

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.clock import local_today
from core.exceptions import DomainError
from crm.models import Customer
from scoring import backtest_charts, backtest_services
from scoring.backtest_data import OUTCOME_DAYS, default_as_of
from scoring.backtest_forms import BacktestForm, SuggestionForm
from scoring.metrics import metric_label
from scoring.models import Backtest, ScoreRule, ScoringProfile, Tier
from scoring.validation import RULE_FIELDS

STAGE_LABELS = {
    "queued": _("Waiting for a worker"),
    "metrics_before": _("Reading each customer's metrics as of the date"),
    "metrics_after": _("Reading what customers did in the 12 months after"),
    "fit_window": _("Reading the fit window"),
    "searching": _("Searching weights"),
    "scoring": _("Scoring and tiering"),
    "report": _("Writing the report"),
    "done": _("Done"),
}
MISPLACED_SHOWN = 25
MISPLACED_LISTS = ("rising", "lapsed")
SIDES = ("current", "draft")


def _tiers_by_code() -> dict[str, Tier]:
    return {tier.code: tier for tier in Tier.objects.order_by("rank")}


def _csv_text(value) -> str:
    """Cell text that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def simulation_post_data(profile: ScoringProfile, weights: dict[str, float]) -> list[tuple[str, str]]:
    """The profile's change form as a browser would post it, with the given weights: what the
    existing simulation reads. Raises DomainError when the profile's rules are no longer those the
    weights were made for."""
    rules = list(profile.rules.order_by("position", "id"))
    if sorted(rule.metric for rule in rules) != sorted(weights):
        raise DomainError(
            gettext("The profile's rules have changed since this suggestion; start a new suggestion."), code="stale"
        )
    data = [
        ("name", profile.name),
        ("description", profile.description),
        ("customer_type", profile.customer_type),
        ("quantitative_points", str(profile.quantitative_points)),
        ("qualitative_points", str(profile.qualitative_points)),
        ("rules-TOTAL_FORMS", str(len(rules))),
        ("rules-INITIAL_FORMS", str(len(rules))),
        ("rules-MIN_NUM_FORMS", "0"),
        ("rules-MAX_NUM_FORMS", "1000"),
    ]
    if profile.is_default:
        data.append(("is_default", "on"))
    if profile.is_active:
        data.append(("is_active", "on"))
    data.extend(("industries", str(pk)) for pk in profile.industries.values_list("pk", flat=True))
    for index, rule in enumerate(rules):
        prefix = f"rules-{index}-"
        data += [(prefix + "id", str(rule.pk)), (prefix + "profile", str(profile.pk))]
        for field in RULE_FIELDS:
            value = getattr(rule, field)
            if field == "weight":
                value = f"{weights[rule.metric]:g}"
            elif field == "bands":
                value = json.dumps(value or [])
                data.append(("initial-" + prefix + field, value))
            if value is not None and value != "":
                data.append((prefix + field, str(value)))
    return data


def _percent(value) -> float | None:
    return None if value is None else round(value * 100, 1)


def _side_rows(side: dict, tiers: dict[str, Tier]) -> list[dict]:
    lower_in_inversion = {pair["lower"] for pair in side["inversions"]}
    higher_in_inversion = {pair["higher"] for pair in side["inversions"]}
    rows = []
    for row in side["tiers"]:
        tier = tiers.get(row["code"])
        rows.append(
            {
                **row,
                "name": tier.name if tier else row["code"],
                "customer_share_pct": _percent(row["customer_share"]),
                "spend_share_pct": _percent(row["spend_share"]),
                "retention_pct": _percent(row["retention"]),
                "threshold": side["thresholds"].get(row["code"]),
                "inverted": row["code"] in lower_in_inversion or row["code"] in higher_in_inversion,
            }
        )
    return rows


def _side_label(key: str, kind: str) -> str:
    if key == "current":
        return gettext("Saved rules")
    return gettext("Suggested weights") if kind == Backtest.Kind.SUGGESTION else gettext("Draft")


OBJECTIVE_LABELS = {
    "rank_correlation": _("rank correlation of score and next-period spend"),
    "top_share": _("the top tiers' share of next-period spend"),
}


def _misplaced_context(side: dict, tiers: dict[str, Tier], names: dict[int, str]) -> dict:
    lists = {}
    for name in MISPLACED_LISTS:
        rows = side["misplaced"].get(name, [])
        lists[name] = {
            "count": len(rows),
            "rows": [
                {
                    **row,
                    "name": names.get(row["id"], ""),
                    "tier_name": tiers[row["tier"]].name if row["tier"] in tiers else row["tier"],
                }
                for row in rows[:MISPLACED_SHOWN]
            ],
        }
    return lists


def report_context(row: Backtest) -> dict:
    """Everything the report template shows, from the stored result (nothing is recomputed)."""
    result = row.result
    tiers = _tiers_by_code()
    shown_ids = {
        item["id"]
        for side in result["sides"].values()
        for name in MISPLACED_LISTS
        for item in side["misplaced"].get(name, [])[:MISPLACED_SHOWN]
    }
    names = dict(Customer.objects.filter(id__in=shown_ids).values_list("id", "name"))
    sides = []
    for key in SIDES:
        side = result["sides"].get(key)
        if not side:
            continue
        sides.append(
            {
                "key": key,
                "label": _side_label(key, row.kind),
                "tiers": _side_rows(side, tiers),
                "inversions": [
                    {
                        **pair,
                        "higher_name": tiers[pair["higher"]].name if pair["higher"] in tiers else pair["higher"],
                        "lower_name": tiers[pair["lower"]].name if pair["lower"] in tiers else pair["lower"],
                    }
                    for pair in side["inversions"]
                ],
                "rank_correlation": side["rank_correlation"],
                "top_share_pct": _percent(side["top_share"]),
                "top_tiers_fraction_pct": _percent(side["top_tiers_fraction"]),
                "top_tiers_share_pct": _percent(side["top_tiers_share"]),
                "calibrated": side.get("calibrated", False),
                "contributions": [
                    {
                        **item,
                        "label": metric_label(item["metric"]),
                        "adds_top_share_pct": _percent(item["adds_top_share"]),
                        "adds_top_tiers_share_pct": _percent(item["adds_top_tiers_share"]),
                    }
                    for item in side["contributions"]
                ],
                "misplaced": _misplaced_context(side, tiers, names),
            }
        )
    tier_names = {code: tier.name for code, tier in tiers.items()}
    context = {
        "data": result["data"],
        "sides": sides,
        "two_sides": len(sides) > 1,
        "bars": backtest_charts.tier_bars(result["sides"], tier_names),
        "gains": backtest_charts.gains_lines(result["sides"]),
        "draft_name": result.get("draft_name"),
    }
    if result.get("suggestion"):
        context["suggestion"] = _suggestion_context(row, result["suggestion"])
    return context


def _suggestion_context(row: Backtest, found: dict) -> dict:
    weights = [
        {
            **item,
            "label": metric_label(item["metric"]),
            "category_label": ScoreRule.Category(item["category"]).label,
            "change": item["suggested"] - item["current"],
        }
        for item in found["weights"]
    ]
    context = {
        **found,
        "weights": weights,
        "top_fraction_pct": _percent(found["top_fraction"]),
        "objective_label": OBJECTIVE_LABELS.get(found["objective"], found["objective"]),
        "windows": [
            {
                "name": name,
                "label": gettext("Fit window (in sample)")
                if name == "fit"
                else gettext("Report window (out of sample)"),
                "as_of": row.fit_as_of if name == "fit" else row.as_of,
                "customers": found["windows"][name]["customers"],
                "rank_correlation": found["windows"][name]["rank_correlation"],
                "top_share_current_pct": _percent(found["windows"][name]["top_share"]["current"]),
                "top_share_suggested_pct": _percent(found["windows"][name]["top_share"]["suggested"]),
            }
            for name in ("fit", "report")
        ],
        "simulation": None,
        "stale": "",
    }
    profile = ScoringProfile.objects.filter(pk=found["profile_id"]).prefetch_related("industries").first()
    if profile is None:
        context["stale"] = gettext("The profile has been deleted.")
        return context
    try:
        context["simulation"] = {
            "url": reverse("admin:scoring_scoringprofile_simulate", args=[profile.pk]),
            "data": simulation_post_data(profile, {item["metric"]: item["suggested"] for item in found["weights"]}),
            "edit_url": reverse("admin:scoring_scoringprofile_change", args=[profile.pk]) + f"?suggestion={row.pk}",
        }
    except DomainError as exc:
        context["stale"] = exc.message
    if profile.version != found["profile_version"] and not context["stale"]:
        context["stale"] = gettext(
            "The profile has been saved since this suggestion (version %(then)s then, %(now)s now); its rules are the same."
        ) % {"then": found["profile_version"], "now": profile.version}
    return context


def suggested_weights(backtest_id) -> dict[str, float] | None:
    """{metric: weight} of a finished suggestion, for pre-filling the profile's form."""
    row = Backtest.objects.filter(
        pk=backtest_id, kind=Backtest.Kind.SUGGESTION, status=Backtest.Status.SUCCEEDED
    ).first()
    if row is None:
        return None
    return {item["metric"]: item["suggested"] for item in row.result["suggestion"]["weights"]}


@admin.register(Backtest)
class BacktestAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "as_of",
        "fit_as_of",
        "profile",
        "status",
        "progress_bar",
        "headline",
        "created_by",
        "created_at",
    ]
    list_display_links = ["id", "kind"]
    list_filter = ["kind", "status"]
    list_select_related = ["created_by", "profile"]
    change_list_template = "admin/scoring/backtest/change_list.html"

    class Media:
        css = {"all": ["scoring/admin.css"]}

    def has_change_permission(self, request, obj=None):
        return False  # a report is read, never edited

    @admin.display(description=_("progress"))
    def progress_bar(self, obj):
        return format_html(
            '<progress value="{}" max="100">{}%</progress> {}%', obj.progress, obj.progress, obj.progress
        )

    @admin.display(description=_("headline"))
    def headline(self, obj):
        """Rank correlation and inversions of the saved rules, once done."""
        if obj.status != Backtest.Status.SUCCEEDED:
            return "—"
        current = obj.result["sides"]["current"]
        correlation = current["rank_correlation"]
        inversions = len(current["inversions"])
        text = ngettext(
            "rank correlation %(r)s; %(n)d inversion", "rank correlation %(r)s; %(n)d inversions", inversions
        ) % {"r": "—" if correlation is None else f"{correlation:.2f}", "n": inversions}
        if obj.kind == Backtest.Kind.SUGGESTION:
            found = obj.result["suggestion"]
            text += "; " + (gettext("suggests a change") if found["material"] else gettext("no material change"))
        return text

    def get_urls(self):
        app, model = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path("suggest/", view(self.suggest_view), name=f"{app}_{model}_suggest"),
            path("<int:object_id>/progress/", view(self.progress_view), name=f"{app}_{model}_progress"),
            path(
                "<int:object_id>/misplaced/<str:side>/<str:name>.csv",
                view(self.misplaced_csv_view),
                name=f"{app}_{model}_misplaced",
            ),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}

    def _started(self, request, row: Backtest):
        return HttpResponseRedirect(reverse("admin:scoring_backtest_change", args=[row.pk]))

    def add_view(self, request, form_url="", extra_context=None):
        """The saved rules at a past date, with draft thresholds beside them if any differ."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        tiers = list(Tier.objects.order_by("rank"))
        initial = {"as_of": default_as_of(local_today())}
        form = BacktestForm(request.POST or None, tiers=tiers, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                row = backtest_services.backtest_create(
                    as_of=data["as_of"],
                    thresholds=form.draft_thresholds(),
                    calibrate=data["calibrate"],
                    retention_days=data["retention_days"],
                    created_by=request.user,
                )
            except DomainError as exc:
                form.apply_errors(exc.fields)
            else:
                return self._started(request, row)
        return TemplateResponse(
            request,
            "admin/scoring/backtest/add.html",
            self._context(request, gettext("New backtest"), form=form),
        )

    def suggest_view(self, request):
        """Weights for one profile, fitted on an earlier window and reported on a later one."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        profiles = ScoringProfile.objects.filter(is_active=True).order_by("-is_default", "name")
        chosen = request.POST.get("profile") or request.GET.get("profile")
        profile = profiles.filter(pk=chosen).first() if chosen and str(chosen).isdigit() else profiles.first()
        if profile is None:
            raise Http404
        today = local_today()
        as_of = default_as_of(today)
        initial = {"as_of": as_of, "fit_as_of": as_of - datetime.timedelta(days=OUTCOME_DAYS)}
        form = SuggestionForm(request.POST or None, profile=profile, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                row = backtest_services.suggestion_create(
                    profile=data["profile"],
                    objective=data["objective"],
                    as_of=data["as_of"],
                    fit_as_of=data["fit_as_of"],
                    bounds=form.bounds(),
                    calibrate=data["calibrate"],
                    sample_size=data["sample_size"],
                    retention_days=data["retention_days"],
                    created_by=request.user,
                )
            except DomainError as exc:
                form.apply_errors(exc.fields)
                bounds_errors = exc.fields.get("bounds", [])
            else:
                return self._started(request, row)
        else:
            bounds_errors = []
        return TemplateResponse(
            request,
            "admin/scoring/backtest/suggest.html",
            self._context(
                request,
                gettext("New weight suggestion"),
                form=form,
                profile=profile,
                profiles=profiles,
                bounds_errors=bounds_errors,
            ),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The report: progress while it runs, then the figures."""
        row = get_object_or_404(Backtest.objects.select_related("created_by", "profile"), pk=object_id)
        if not self.has_view_permission(request, row):
            raise PermissionDenied
        context = self._context(
            request,
            str(row),
            original=row,
            backtest=row,
            stage_label=STAGE_LABELS.get(row.stage, row.stage),
            parameters=row.parameters,
        )
        if row.status == Backtest.Status.SUCCEEDED:
            context.update(report_context(row))
        return TemplateResponse(request, "admin/scoring/backtest/report.html", context)

    def progress_view(self, request, object_id):
        row = get_object_or_404(Backtest, pk=object_id)
        if not self.has_view_permission(request, row):
            raise PermissionDenied
        return JsonResponse(
            {
                "status": row.status,
                "statusLabel": row.get_status_display(),
                "percent": row.progress,
                "stage": str(STAGE_LABELS.get(row.stage, row.stage)),
                "finished": row.finished,
            }
        )

    def misplaced_csv_view(self, request, object_id, side, name):
        row = get_object_or_404(Backtest, pk=object_id)
        if not self.has_view_permission(request, row):
            raise PermissionDenied
        if (
            row.status != Backtest.Status.SUCCEEDED
            or side not in row.result.get("sides", {})
            or name not in MISPLACED_LISTS
        ):
            raise Http404
        side_rows = row.result["sides"][side]["misplaced"][name]
        tiers = _tiers_by_code()
        names: dict[int, str] = {}
        ids = [item["id"] for item in side_rows]
        for start in range(0, len(ids), 5000):
            names.update(Customer.objects.filter(id__in=ids[start : start + 5000]).values_list("id", "name"))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="backtest-{row.pk}-{side}-{name}.csv"'
        response.write("\ufeff")  # spreadsheet programs then read the Chinese text correctly
        writer = csv.writer(response)
        writer.writerow(
            [
                gettext("code"),
                gettext("name"),
                gettext("tier at the date"),
                gettext("score at the date"),
                gettext("spend in the 12 months after"),
                gettext("orders in the 12 months after"),
                gettext("still ordering at the end"),
                gettext("complaints in the 12 months after"),
            ]
        )
        for item in side_rows:
            tier = tiers.get(item["tier"])
            writer.writerow(
                [
                    _csv_text(item["code"]),
                    _csv_text(names.get(item["id"], "")),
                    tier.name if tier else item["tier"],
                    f"{item['score']:.2f}",
                    f"{item['spend']:.2f}",
                    item["orders"],
                    gettext("yes") if item["retained"] else gettext("no"),
                    item["complaints"],
                ]
            )
        return response
