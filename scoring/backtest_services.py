"""Backtests and weight suggestions: the Backtest row (what was asked, progress, the report) and
the computation its task runs.

A backtest scores every customer as of a past date T with data up to T only (the metric code of
tier runs, with T as the as-of date), then sets the tiers against what each customer did in the
12 months after T. A suggestion also searches weights for one profile on an earlier window and
reports them on the later one. Only the Backtest row is ever written: no tier, history row,
notice or webhook (scoring/tests/test_backtest_services.py checks every table).

Services start the task by name (scoring.tasks imports this module)."""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal

import numpy as np
from celery import signature
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.clock import local_today
from core.exceptions import DomainError
from scoring import backtest, engine, suggestion
from scoring.backtest_data import (
    OUTCOME_DAYS,
    RETENTION_DAYS_DEFAULT,
    as_of_problems,
    customer_codes,
    default_as_of,
    metrics_at,
    order_span,
    outcome_end,
    outcomes_from,
    population_at,
    population_from,
)
from scoring.calibration import thresholds_for_shares
from scoring.metrics import window_start
from scoring.models import Backtest, ScoringProfile
from scoring.selectors import profiles_load, tiers_load
from scoring.simulation import profiles_with_draft, table_score, tier_specs_with
from scoring.tables import TierSet, assign_profiles, populations_from
from scoring.validation import SPLIT_FIELDS, rules_clean, validate_tier_thresholds

logger = logging.getLogger(__name__)

BACKTEST_RUN_TASK = "scoring.tasks.backtest_run"
SAMPLE_SIZE_DEFAULT = 20000
SEARCH_SEED = 1  # the same data and parameters give the same suggestion
SAMPLE_SIZE_LIMITS = (500, 200000)
RETENTION_DAYS_LIMITS = (1, 365)

# What the task is doing, for the progress bar (labels in scoring/admin_backtest.py).
STAGES = ("queued", "metrics_before", "metrics_after", "scoring", "fit_window", "searching", "report", "done")

Progress = Callable[[int, str], None]


# --- the parameters, checked before anything is queued ------------------------------------------


def _number(value) -> float | None:
    return None if value is None else float(value)


def _rule_json(rule: dict) -> dict:
    """A cleaned rule (Decimals) as JSON numbers."""
    return {
        "metric": rule["metric"],
        "category": rule["category"],
        "weight": float(rule["weight"]),
        "normalisation": rule["normalisation"],
        "floor": _number(rule["floor"]),
        "cap": _number(rule["cap"]),
        "bands": [[float(t), float(s)] for t, s in rule["bands"]],
        "direction": rule["direction"],
        "missing_value": _number(rule["missing_value"]),
    }


def _prefixed(prefix: str, errors: Mapping[str, list]) -> dict[str, list[str]]:
    return {f"{prefix}.{key}": [str(m) for m in messages] for key, messages in errors.items()}


def _date_check(field: str, value: datetime.date, today: datetime.date, span, errors: dict) -> None:
    problems = as_of_problems(value, today=today, span=span)
    if problems:
        errors.setdefault(field, []).extend(problems)


def _draft_clean(draft: Mapping, errors: dict) -> dict | None:
    """The draft profile as stored in the parameters: its rules cleaned against its split."""
    profile = None
    if draft.get("profile") is not None:
        profile = ScoringProfile.objects.filter(pk=draft["profile"]).first()
        if profile is None:
            errors["draft.profile"] = [_("No scoring profile has the id %(id)s.") % {"id": draft["profile"]}]
            return None
    split = {
        category: draft.get(field, getattr(profile, field) if profile else Decimal(default))
        for (category, field), default in zip(SPLIT_FIELDS.items(), (60, 40), strict=True)
    }
    cleaned, rule_errors = rules_clean(draft.get("rules") or [], split=split)
    if rule_errors:
        errors.update(_prefixed("draft", rule_errors))
        return None
    return {
        "profile_id": profile.pk if profile else None,
        "name": draft.get("name") or (profile.name if profile else _("New profile")),
        "version": (profile.version + 1) if profile else 1,
        "customer_type": draft.get("customer_type", profile.customer_type if profile else "") or "",
        "industry_ids": sorted(
            draft["industry_ids"]
            if "industry_ids" in draft
            else (profile.industries.values_list("id", flat=True) if profile else [])
        ),
        "is_default": bool(draft.get("is_default", profile.is_default if profile else False)),
        "split": {category: float(points) for category, points in split.items()},
        "rules": [_rule_json(rule) for rule in cleaned],
    }


def _thresholds_clean(thresholds: Mapping, errors: dict) -> dict[str, float] | None:
    tiers = {tier.code: tier for tier in tiers_load().by_code.values()}
    unknown = sorted(set(thresholds) - set(tiers))
    if unknown:
        errors["thresholds"] = [_("Unknown tier code %(code)r.") % {"code": code} for code in unknown]
        return None
    rows = [
        {"code": t.code, "rank": t.rank, "name": t.name, "min_score": thresholds.get(t.code, t.min_score)}
        for t in tiers.values()
    ]
    problems = validate_tier_thresholds(rows)
    if problems:
        errors.update(_prefixed("thresholds", problems))
        return None
    return {code: float(value) for code, value in thresholds.items()}


def _common_clean(*, retention_days: int, errors: dict) -> None:
    low, high = RETENTION_DAYS_LIMITS
    if not low <= retention_days <= high:
        errors["retention_days"] = [_("Must be between %(low)d and %(high)d days.") % {"low": low, "high": high}]


def _queue(backtest_row: Backtest) -> None:
    pk = backtest_row.pk
    transaction.on_commit(lambda: _send(pk))


def _send(backtest_id: int) -> None:
    """Hand the backtest to Celery; if the broker is down, it is marked failed with the reason."""
    try:
        signature(BACKTEST_RUN_TASK, args=[backtest_id]).apply_async(retry=False)
    except Exception as exc:
        logger.exception("backtest %s could not be queued", backtest_id)
        Backtest.objects.filter(pk=backtest_id, status=Backtest.Status.PENDING).update(
            status=Backtest.Status.FAILED, finished_at=timezone.now(), error=f"not queued: {exc!r}"[:2000]
        )


@transaction.atomic
def backtest_create(
    *,
    as_of: datetime.date | None = None,
    draft: Mapping | None = None,
    thresholds: Mapping | None = None,
    calibrate: bool = False,
    retention_days: int = RETENTION_DAYS_DEFAULT,
    created_by=None,
    today: datetime.date | None = None,
) -> Backtest:
    """Check what is asked and queue the backtest: the saved rules and thresholds, and beside them
    a draft profile (`{"profile": id, "rules": [...]}`, a new split optional) and/or draft
    thresholds (`{"vip": 92}`). Refused with the field named: a date without 12 months of data
    after it or without orders before it, invalid draft rules or thresholds."""
    today = today or local_today()
    as_of = as_of or default_as_of(today)
    errors: dict[str, list[str]] = {}
    span = order_span()
    _date_check("as_of", as_of, today, span, errors)
    _common_clean(retention_days=retention_days, errors=errors)
    draft_clean = _draft_clean(draft, errors) if draft else None
    thresholds_clean = _thresholds_clean(thresholds, errors) if thresholds else None
    if errors:
        raise DomainError(_("This backtest cannot be run."), code="invalid", fields=errors)
    row = Backtest.objects.create(
        kind=Backtest.Kind.BACKTEST,
        as_of=as_of,
        profile_id=draft_clean["profile_id"] if draft_clean else None,
        parameters={
            "draft": draft_clean,
            "thresholds": thresholds_clean,
            "calibrate": bool(calibrate),
            "retention_days": retention_days,
            "first_order": span.first.isoformat(),
        },
        stage="queued",
        created_by=created_by,
    )
    _queue(row)
    return row


def suggestion_bounds(profile: ScoringProfile, bounds: Mapping | None) -> list[suggestion.Bound]:
    """The profile's rules with the administrator's bounds (`{metric: [low, high]}`), default 0 to
    twice the current weight."""
    bounds = bounds or {}
    result = []
    for rule in profile.rules.order_by("position", "id"):
        weight = float(rule.weight)
        low, high = bounds.get(rule.metric, (0.0, 2.0 * weight))
        result.append(suggestion.Bound(rule.metric, rule.category, weight, float(low), float(high)))
    return result


@transaction.atomic
def suggestion_create(
    *,
    profile: ScoringProfile | None,
    objective: str = "rank_correlation",
    as_of: datetime.date | None = None,
    fit_as_of: datetime.date | None = None,
    bounds: Mapping | None = None,
    calibrate: bool = False,
    sample_size: int = SAMPLE_SIZE_DEFAULT,
    retention_days: int = RETENTION_DAYS_DEFAULT,
    created_by=None,
    today: datetime.date | None = None,
) -> Backtest:
    """Queue a weight suggestion for one active profile: weights are fitted on the window that
    ends at `as_of` (scored as of `fit_as_of`, by default a year earlier) and reported on the
    window after `as_of`, out of sample. Refused with the field named when a date lacks data,
    the fit window's year overlaps the report's, or the bounds cannot satisfy the split."""
    today = today or local_today()
    as_of = as_of or default_as_of(today)
    fit_as_of = fit_as_of or (as_of - datetime.timedelta(days=OUTCOME_DAYS))
    errors: dict[str, list[str]] = {}
    if profile is None or not profile.is_active:
        errors["profile"] = [_("Choose an active scoring profile: a suggestion fits the weights of one profile.")]
    if objective not in suggestion.OBJECTIVES:
        errors["objective"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(suggestion.OBJECTIVES)}]
    span = order_span()
    _date_check("as_of", as_of, today, span, errors)
    if outcome_end(fit_as_of) > as_of:
        errors.setdefault("fit_as_of", []).append(
            _(
                "The fit window must end before the reported one starts, so the report is out of sample: "
                "the 12 months after %(fit)s end on %(end)s, after %(as_of)s. Choose %(latest)s or earlier."
            )
            % {
                "fit": fit_as_of,
                "end": outcome_end(fit_as_of),
                "as_of": as_of,
                "latest": as_of - datetime.timedelta(days=OUTCOME_DAYS),
            }
        )
    else:
        _date_check("fit_as_of", fit_as_of, today, span, errors)
    low, high = SAMPLE_SIZE_LIMITS
    if not low <= sample_size <= high:
        errors["sample_size"] = [_("Must be between %(low)d and %(high)d customers.") % {"low": low, "high": high}]
    _common_clean(retention_days=retention_days, errors=errors)
    weight_bounds: list[suggestion.Bound] = []
    if profile is not None and "profile" not in errors:
        unknown = sorted(set(bounds or {}) - set(profile.rules.values_list("metric", flat=True)))
        if unknown:
            errors["bounds"] = [_("%(metric)r has no rule in this profile.") % {"metric": metric} for metric in unknown]
        else:
            weight_bounds = suggestion_bounds(profile, bounds)
            split = {category: float(getattr(profile, field)) for category, field in SPLIT_FIELDS.items()}
            problems = suggestion.bounds_problems(weight_bounds, split)
            if problems:
                errors["bounds"] = problems
    if errors:
        raise DomainError(_("This weight suggestion cannot be run."), code="invalid", fields=errors)
    row = Backtest.objects.create(
        kind=Backtest.Kind.SUGGESTION,
        as_of=as_of,
        fit_as_of=fit_as_of,
        profile=profile,
        parameters={
            "objective": objective,
            "bounds": {b.metric: [b.low, b.high] for b in weight_bounds},
            "calibrate": bool(calibrate),
            "sample_size": sample_size,
            "retention_days": retention_days,
            "profile_version": profile.version,
            "seed": SEARCH_SEED,
            "first_order": span.first.isoformat(),
        },
        stage="queued",
        created_by=created_by,
    )
    _queue(row)
    return row


# --- the computation (the task) ----------------------------------------------------------------


def backtest_run(backtest_id: int) -> Backtest:
    """Compute a queued backtest or suggestion and store its report. Writes nothing but the row."""
    row = Backtest.objects.get(pk=backtest_id)
    if row.status == Backtest.Status.SUCCEEDED:
        return row  # a redelivered task: already done
    Backtest.objects.filter(pk=row.pk).update(
        status=Backtest.Status.RUNNING, started_at=timezone.now(), progress=1, error=""
    )

    def progress(percent: int, stage: str) -> None:
        Backtest.objects.filter(pk=row.pk).update(progress=percent, stage=stage)

    try:
        compute = _suggestion_compute if row.kind == Backtest.Kind.SUGGESTION else _backtest_compute
        result = compute(row, progress)
    except Exception as exc:
        if not isinstance(exc, DomainError):
            logger.exception("backtest %s failed", row.pk)
        message = exc.message if isinstance(exc, DomainError) else repr(exc)
        Backtest.objects.filter(pk=row.pk).update(
            status=Backtest.Status.FAILED, finished_at=timezone.now(), error=message[:4000]
        )
    else:
        Backtest.objects.filter(pk=row.pk).update(
            status=Backtest.Status.SUCCEEDED, finished_at=timezone.now(), progress=100, stage="done", result=result
        )
    row.refresh_from_db()
    return row


def _draft_spec(draft: dict) -> engine.ProfileSpec:
    return engine.ProfileSpec(
        id=draft["profile_id"] or 0,
        name=draft["name"],
        version=draft["version"],
        rules=tuple(engine.rule_spec_from(rule) for rule in draft["rules"]),
        customer_type=draft["customer_type"],
        industry_ids=frozenset(draft["industry_ids"]),
        is_default=draft["is_default"],
    )


def _tier_codes(tiers: TierSet) -> list[str]:
    return [spec.code for spec in tiers.specs]


def _side(table, profiles, tiers: TierSet, outcomes, *, thresholds=None, calibrate=False) -> tuple[dict, np.ndarray]:
    """One rule set's report: scored as of the table's date, tiered by the saved thresholds, draft
    ones, or ones calibrated to the tiers' target shares on these scores."""
    scored = table_score(table, profiles, tiers)
    if calibrate:
        ordered = [tiers.by_code[spec.code] for spec in tiers.specs]
        values = thresholds_for_shares(
            scored.totals, [float(t.target_share) for t in ordered], float(ordered[-1].min_score)
        )
        thresholds = dict(zip([t.code for t in ordered], values, strict=False))
    specs = tier_specs_with(tiers, thresholds or {})
    tier_index = engine.tier_indexes(scored.totals, specs)
    report = backtest.side_report(
        totals=scored.totals,
        tier_index=tier_index,
        tier_codes=_tier_codes(tiers),
        thresholds={spec.code: spec.min_score for spec in specs},
        points=scored.points,
        outcomes=outcomes,
    )
    report["calibrated"] = bool(calibrate)
    return report, scored.totals


def _name_misplaced(report: dict, ids: np.ndarray, totals: np.ndarray, outcomes, codes: list[str], tier_index_of):
    """Misplaced positions -> rows people read (code, tier, score, next-period figures)."""
    named = {}
    for name, positions in report["misplaced"].items():
        if name == "rising":
            positions = positions[np.argsort(-outcomes.spend[positions], kind="stable")]
        else:
            positions = positions[np.argsort(-totals[positions], kind="stable")]
        named[name] = [
            {
                "id": int(ids[p]),
                "tier": codes[int(tier_index_of[p])],
                "score": float(totals[p]),
                "spend": round(float(outcomes.spend[p]), 2),
                "orders": int(outcomes.orders[p]),
                "retained": bool(outcomes.retained[p]),
                "complaints": int(outcomes.complaints[p]),
            }
            for p in positions.tolist()
        ]
    report["misplaced"] = named


def _sides_report(
    *, table, outcomes, tiers, saved, draft_profiles, draft_thresholds, calibrate, progress, start: int
) -> dict:
    """The current rule set, and the draft beside it when there is one, with misplaced customers named."""
    sides = {}
    totals_of = {}
    current, totals_of["current"] = _side(table, saved, tiers, outcomes, calibrate=calibrate)
    sides["current"] = current
    if draft_profiles is not None or draft_thresholds:
        progress(start + 10, "scoring")
        draft, totals_of["draft"] = _side(
            table, draft_profiles or saved, tiers, outcomes, thresholds=draft_thresholds, calibrate=calibrate
        )
        sides["draft"] = draft
    progress(start + 20, "report")
    codes = _tier_codes(tiers)
    for label, side in sides.items():
        specs = tier_specs_with(tiers, side["thresholds"])
        index = engine.tier_indexes(totals_of[label], specs)
        _name_misplaced(side, table.customer_ids, totals_of[label], outcomes, codes, index)
    named = {row["id"] for side in sides.values() for rows in side["misplaced"].values() for row in rows}
    lookup = customer_codes(sorted(named))
    for side in sides.values():
        for rows in side["misplaced"].values():
            for row in rows:
                row["code"] = lookup.get(row["id"], "")
    return sides


def _data_section(as_of: datetime.date, population, outcomes, retention_days: int, first_order: str | None) -> dict:
    """How much data stood behind the figures, from the arrays already read (no extra query)."""
    table = population.table
    first = datetime.date.fromisoformat(first_order) if first_order else None
    return {
        "as_of": as_of.isoformat(),
        "window_start": window_start(as_of).isoformat(),
        "outcome_end": outcome_end(as_of).isoformat(),
        "customers": len(table),
        "customers_ordering_before": int((table.last_order >= 0).sum()),
        "customers_ordering_after": int((outcomes.orders > 0).sum()),
        "orders_before": int(table.metrics["orders_12m"].sum()),
        "orders_after": int(outcomes.orders.sum()),
        "complaints_after": int(outcomes.complaints.sum()),
        "spend_after": round(float(outcomes.spend.sum()), 2),
        "history_months": round(max(0.0, (as_of - first).days / 30.44), 1) if first else 0.0,
        "first_order": first_order,
        "left_out": population.left_out,
        "fields_from_history": population.fields_from_history,
        "retention_days": retention_days,
    }


def _backtest_compute(row: Backtest, progress: Progress) -> dict:
    params = row.parameters
    retention_days = params.get("retention_days", RETENTION_DAYS_DEFAULT)
    tiers, saved = tiers_load(), profiles_load()
    progress(5, "metrics_before")
    population = population_at(row.as_of)
    progress(35, "metrics_after")
    later = metrics_at(outcome_end(row.as_of))
    outcomes = outcomes_from(later, population.table.customer_ids, retention_days=retention_days)
    progress(60, "scoring")
    draft = params.get("draft")
    sides = _sides_report(
        table=population.table,
        outcomes=outcomes,
        tiers=tiers,
        saved=saved,
        draft_profiles=profiles_with_draft(saved, _draft_spec(draft)) if draft else None,
        draft_thresholds=params.get("thresholds"),
        calibrate=params.get("calibrate", False),
        progress=progress,
        start=60,
    )
    return {
        "tiers": _tier_codes(tiers),
        "data": _data_section(row.as_of, population, outcomes, retention_days, params.get("first_order")),
        "sides": sides,
        "draft_name": draft["name"] if draft else None,
    }


def _suggestion_compute(row: Backtest, progress: Progress) -> dict:
    params = row.parameters
    retention_days = params.get("retention_days", RETENTION_DAYS_DEFAULT)
    profile_row = row.profile
    if profile_row is None or not profile_row.is_active:
        raise DomainError(_("The profile of this suggestion has been deleted or deactivated."), code="invalid")
    tiers, saved = tiers_load(), profiles_load()
    profile = next(p for p in saved if p.id == profile_row.pk)
    bounds = [
        suggestion.Bound(r.metric, r.category, r.weight, *params["bounds"].get(r.metric, (0.0, 2 * r.weight)))
        for r in profile.rules
    ]
    split = {category: float(getattr(profile_row, field)) for category, field in SPLIT_FIELDS.items()}
    ordered = [tiers.by_code[spec.code] for spec in tiers.specs]
    top_fraction = sum(float(t.target_share) for t in ordered[:2]) / 100.0

    # The fit window: scored as of fit_as_of, outcomes in the year after it (which ends by as_of).
    progress(5, "fit_window")
    fit = population_at(row.fit_as_of)
    fit_end = outcome_end(row.fit_as_of)
    fit_later = metrics_at(fit_end)
    fit_outcomes = outcomes_from(fit_later, fit.table.customer_ids, retention_days=retention_days)
    progress(25, "metrics_before")
    report_table = fit_later if fit_end == row.as_of else metrics_at(row.as_of)
    report = population_from(report_table)
    progress(40, "metrics_after")
    later = metrics_at(outcome_end(row.as_of))
    outcomes = outcomes_from(later, report.table.customer_ids, retention_days=retention_days)

    progress(50, "searching")
    fit_mask = assign_profiles(fit.table, saved) == profile.id
    fit_shares = suggestion.rule_shares(
        profile.rules,
        {key: values[fit_mask] for key, values in fit.table.metrics.items()},
        populations_from(fit.table, saved),
    )
    fit_spend = fit_outcomes.spend[fit_mask]
    sample_size = params.get("sample_size", SAMPLE_SIZE_DEFAULT)
    seed = params.get("seed", SEARCH_SEED)
    rng = np.random.default_rng(seed)
    if len(fit_spend) > sample_size:
        pick = np.sort(rng.choice(len(fit_spend), sample_size, replace=False))
        fit_shares, fit_spend = fit_shares[pick], fit_spend[pick]
    if len(fit_spend) < 30:
        raise DomainError(
            _("Too few customers of this profile in the fit window (%(n)d) to fit weights.") % {"n": len(fit_spend)},
            code="invalid",
        )
    space = suggestion.WeightSpace(bounds, split)
    found = suggestion.suggest(
        space=space,
        objective_name=params["objective"],
        shares=fit_shares,
        spend=fit_spend,
        top_fraction=top_fraction,
        seed=seed,
    )
    weights = found.weights
    suggested_profile = dataclasses.replace(
        profile,
        rules=tuple(
            dataclasses.replace(rule, weight=float(weight)) for rule, weight in zip(profile.rules, weights, strict=True)
        ),
    )

    progress(75, "scoring")
    report_mask = assign_profiles(report.table, saved) == profile.id
    report_shares = suggestion.rule_shares(
        profile.rules,
        {key: values[report_mask] for key, values in report.table.metrics.items()},
        populations_from(report.table, saved),
    )
    current_weights = np.array([rule.weight for rule in profile.rules])
    both = np.stack([current_weights, weights], axis=1)
    windows = {}
    for name, shares_, spend_ in (
        ("fit", fit_shares, fit_spend),
        ("report", report_shares, outcomes.spend[report_mask]),
    ):
        figures = {}
        for objective in suggestion.OBJECTIVES:
            values = suggestion.Objective(objective, shares_, spend_, top_fraction=top_fraction).values(both)
            figures[objective] = {"current": float(values[0]), "suggested": float(values[1])}
        windows[name] = {"customers": int(len(spend_)), **figures}

    profiles_with = profiles_with_draft(saved, suggested_profile)
    sides = _sides_report(
        table=report.table,
        outcomes=outcomes,
        tiers=tiers,
        saved=saved,
        draft_profiles=profiles_with,
        draft_thresholds=None,
        calibrate=params.get("calibrate", False),
        progress=progress,
        start=75,
    )
    profile_customers_fit = int(fit_mask.sum())
    rules_json = [
        {**_rule_json(_rule_dict(rule)), "weight": float(weight)}
        for rule, weight in zip(profile.rules, weights, strict=True)
    ]
    return {
        "tiers": _tier_codes(tiers),
        "data": _data_section(row.as_of, report, outcomes, retention_days, params.get("first_order")),
        "fit_data": _data_section(row.fit_as_of, fit, fit_outcomes, retention_days, params.get("first_order")),
        "sides": sides,
        "draft_name": profile.name,
        "suggestion": {
            "profile_id": profile.id,
            "profile_name": profile.name,
            "profile_version": profile.version,
            "objective": params["objective"],
            "top_fraction": top_fraction,
            "material": found.material,
            "weights": [
                {
                    "metric": b.metric,
                    "category": b.category,
                    "current": b.current,
                    "low": float(space.low[i]) + 0.0,  # never -0.0
                    "high": float(space.high[i]) + 0.0,
                    "suggested": float(weights[i]),
                    "searched": float(found.searched_weights[i]),
                }
                for i, b in enumerate(bounds)
            ],
            "rules": rules_json,
            "split": split,
            "windows": windows,
            "fit_customers": profile_customers_fit,
            "sample_size": int(len(fit_spend)),
            "sampled": profile_customers_fit > len(fit_spend),
            "train_size": found.train_size,
            "holdout_size": found.holdout_size,
            "holdout_gain": found.holdout_gain,
            "holdout_gain_low": found.holdout_gain_low,
            "candidates": found.evaluations,
            "generations": found.generations,
            "material_gain": suggestion.MATERIAL_GAIN,
        },
    }


def _rule_dict(rule: engine.RuleSpec) -> dict:
    return {
        "metric": rule.metric,
        "category": rule.category,
        "weight": rule.weight,
        "normalisation": rule.normalisation,
        "floor": rule.floor,
        "cap": rule.cap,
        "bands": [list(band) for band in rule.bands],
        "direction": rule.direction,
        "missing_value": rule.missing_value,
    }


def suggestion_draft_rules(row: Backtest) -> list[dict]:
    """The suggested rule set (the profile's rules with the suggested weights), for the simulation."""
    return list(row.result.get("suggestion", {}).get("rules", []))
