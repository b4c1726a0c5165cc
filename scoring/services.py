"""Score customers with the rules administrators keep in the database.

Loads tiers and profiles into the pure specs of `scoring.engine`, computes metrics in bulk
with `scoring.metrics`, and returns arrays a tier run, a simulation or a detail page can use.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from crm.exceptions import DomainError
from crm.models import Customer
from scoring import engine
from scoring.metrics import MetricTable, metric_table
from scoring.models import ScoreRule, ScoringProfile, Tier
from scoring.validation import rules_clean, validate_tier_thresholds


@dataclass(frozen=True)
class TierSet:
    """The tiers, highest first, with their database ids beside the pure specs."""

    specs: list[engine.TierSpec]
    ids: np.ndarray  # tier id per spec index
    by_code: dict[str, Tier]

    def id_of(self, code: str) -> int:
        return self.by_code[code].pk

    def index_of_id(self, tier_id: int) -> int:
        matches = np.nonzero(self.ids == tier_id)[0]
        return int(matches[0]) if matches.size else -1


def tiers_load() -> TierSet:
    tiers = list(Tier.objects.order_by("rank"))
    if not tiers:
        raise LookupError("no tiers are defined")
    specs = [engine.TierSpec(code=t.code, rank=t.rank, min_score=float(t.min_score)) for t in tiers]
    return TierSet(specs=specs, ids=np.array([t.pk for t in tiers], dtype=np.int64), by_code={t.code: t for t in tiers})


def rule_spec(rule: ScoreRule) -> engine.RuleSpec:
    def number(value):
        return None if value is None else float(value)

    return engine.RuleSpec(
        metric=rule.metric,
        category=rule.category,
        weight=float(rule.weight),
        normalisation=rule.normalisation,
        floor=number(rule.floor),
        cap=number(rule.cap),
        bands=tuple((float(threshold), float(share)) for threshold, share in (rule.bands or [])),
        direction=rule.direction,
        missing_value=number(rule.missing_value),
    )


def profile_spec(profile: ScoringProfile, rules=None, industry_ids=None) -> engine.ProfileSpec:
    rules = profile.rules.all() if rules is None else rules
    industry_ids = {i.pk for i in profile.industries.all()} if industry_ids is None else industry_ids
    return engine.ProfileSpec(
        id=profile.pk,
        name=profile.name,
        version=profile.version,
        rules=tuple(rule_spec(rule) for rule in rules),
        customer_type=profile.customer_type,
        industry_ids=frozenset(industry_ids),
        is_default=profile.is_default,
    )


def profiles_load() -> list[engine.ProfileSpec]:
    """Active profiles with their rules, in three queries whatever their number."""
    profiles = ScoringProfile.objects.filter(is_active=True).prefetch_related(
        Prefetch("rules", queryset=ScoreRule.objects.order_by("position", "id")), "industries"
    )
    return [profile_spec(p) for p in profiles]


@dataclass
class ScoredTable:
    """Scores for a set of customers, aligned with `table.customer_ids`."""

    table: MetricTable
    tiers: TierSet
    profiles: dict[int, engine.ProfileSpec]
    profile_ids: np.ndarray
    totals: np.ndarray
    tier_index: np.ndarray  # index into tiers.specs
    points: dict[str, np.ndarray]  # per metric; NaN where the customer's profile has no rule for it

    def __len__(self) -> int:
        return len(self.totals)

    @property
    def tier_ids(self) -> np.ndarray:
        return self.tiers.ids[self.tier_index]

    def breakdown(self, index: int) -> list[engine.RulePoints]:
        profile = self.profiles[int(self.profile_ids[index])]
        values = self.table.row(index)
        return [
            engine.RulePoints(
                metric=rule.metric,
                category=rule.category,
                value=values.get(rule.metric),
                points=engine.round_points(float(self.points[rule.metric][index])),
                max_points=rule.weight,
            )
            for rule in profile.rules
        ]


def assign_profiles(table: MetricTable, profiles: list[engine.ProfileSpec]) -> np.ndarray:
    """Profile id per customer; matching runs once per distinct (type, industry) pair, not per customer."""
    result = np.zeros(len(table), dtype=np.int64)
    if not len(table):
        return result
    pairs = np.stack([table.customer_type.astype(str), table.industry_id.astype(str)])
    unique_pairs, inverse = np.unique(pairs, axis=1, return_inverse=True)
    chosen = [
        engine.match_profile(customer_type, int(industry_id), profiles).id
        for customer_type, industry_id in unique_pairs.T
    ]
    return np.asarray(chosen, dtype=np.int64)[inverse.ravel()]


def percentile_populations(profiles: list[engine.ProfileSpec], as_of: datetime.date) -> dict[str, np.ndarray]:
    """Sorted metric values of all active customers, only for metrics that percentile rules use."""
    needed = {r.metric for p in profiles for r in p.rules if r.normalisation == "percentile"}
    if not needed:
        return {}
    table = metric_table(Customer.objects.filter(status=Customer.Status.ACTIVE), as_of)
    return {metric: np.sort(values[~np.isnan(values)]) for metric, values in table.metrics.items() if metric in needed}


def score_table(
    table: MetricTable,
    *,
    profiles: list[engine.ProfileSpec],
    tiers: TierSet,
    populations: dict[str, np.ndarray] | None = None,
    tier_specs: list[engine.TierSpec] | None = None,
) -> ScoredTable:
    """Score a metric table. `tier_specs` lets a simulation try thresholds that are not saved."""
    profile_ids = assign_profiles(table, profiles)
    by_id = {p.id: p for p in profiles}
    totals = np.zeros(len(table))
    points = {}
    for profile_id in np.unique(profile_ids):
        mask = profile_ids == profile_id
        profile = by_id[int(profile_id)]
        group_totals, group_points = engine.score_matrix(
            profile, {key: values[mask] for key, values in table.metrics.items()}, populations
        )
        totals[mask] = group_totals
        for row, rule in enumerate(profile.rules):
            column = points.setdefault(rule.metric, np.full(len(table), np.nan))
            column[mask] = group_points[row]
    tier_index = engine.tier_indexes(totals, tier_specs or tiers.specs)
    return ScoredTable(
        table=table,
        tiers=tiers,
        profiles=by_id,
        profile_ids=profile_ids,
        totals=totals,
        tier_index=tier_index,
        points=points,
    )


def customers_score(customers, as_of: datetime.date, *, profiles=None, tiers=None, populations=None) -> ScoredTable:
    """Score every customer of a queryset in a fixed number of queries."""
    profiles = profiles if profiles is not None else profiles_load()
    tiers = tiers or tiers_load()
    if populations is None:
        populations = percentile_populations(profiles, as_of)
    return score_table(metric_table(customers, as_of), profiles=profiles, tiers=tiers, populations=populations)


@dataclass(frozen=True)
class CustomerScore:
    as_of: datetime.date
    result: engine.ScoreResult
    profile: engine.ProfileSpec
    tier: Tier


def customer_score(customer: Customer, as_of: datetime.date) -> CustomerScore:
    """Live score of one customer, with the breakdown the detail page and the API show. Writes nothing."""
    scored = customers_score(Customer.objects.filter(pk=customer.pk), as_of)
    profile = scored.profiles[int(scored.profile_ids[0])]
    result = engine.ScoreResult(
        total=float(scored.totals[0]),
        tier=scored.tiers.specs[int(scored.tier_index[0])].code,
        rules=tuple(scored.breakdown(0)),
    )
    return CustomerScore(as_of=as_of, result=result, profile=profile, tier=scored.tiers.by_code[result.tier])


# --- writes: rule sets and tiers ---------------------------------------------------------------

TIER_EDITABLE_FIELDS = frozenset(
    {
        "min_score",
        "target_share",
        "name_zh",
        "name_en",
        "colour",
        "dedicated_manager",
        "visit_frequency_zh",
        "visit_frequency_en",
        "first_response_minutes",
        "service_zh",
        "service_en",
    }
)


def _rule_values(cleaned: dict) -> dict:
    return {
        "metric": cleaned["metric"],
        "category": cleaned["category"],
        "weight": cleaned["weight"],
        "normalisation": cleaned["normalisation"],
        "floor": cleaned["floor"],
        "cap": cleaned["cap"],
        "bands": [[float(threshold), float(share)] for threshold, share in cleaned["bands"]],
        "direction": cleaned["direction"],
        "missing_value": cleaned["missing_value"],
    }


def _rule_ids_check(profile: ScoringProfile, cleaned_rules: list[dict], existing: dict[int, ScoreRule]) -> None:
    errors = {}
    for index, rule in enumerate(cleaned_rules):
        rule_id = rule.get("id")
        if rule_id is not None and (not isinstance(rule_id, int) or rule_id not in existing):
            errors[f"rules[{index}].id"] = [
                _("Rule %(id)r does not belong to the profile %(profile)s.") % {"id": rule_id, "profile": profile.name}
            ]
    if errors:
        raise DomainError(_("Invalid scoring rules."), code="invalid", fields=errors)


@transaction.atomic
def profile_rules_update(
    *, profile: ScoringProfile, rules: list[dict], changed_by=None, bump_version: bool = True
) -> ScoringProfile:
    """Replace a profile's whole rule set and save the profile as the next version.

    The set is validated as a whole first (weights add up to 100, caps above floors...), so a
    profile never holds a half-edited set. A rule is matched to a stored one by `id`, or else by
    metric, which keeps each rule's change history continuous; stored rules left out are deleted.
    The profile's own fields are saved as they are on `profile`. `bump_version=False` is only
    for a profile created in the same transaction (it starts at version 1)."""
    cleaned_rules, errors = rules_clean(rules)
    if errors:
        raise DomainError(_("Invalid scoring rules."), code="invalid", fields=errors)
    current_version = (
        ScoringProfile.objects.select_for_update().filter(pk=profile.pk).values_list("version", flat=True).first()
    )
    if current_version is None:
        raise DomainError(_("This scoring profile no longer exists."), code="not_found")
    existing = {rule.pk: rule for rule in ScoreRule.objects.filter(profile=profile)}
    _rule_ids_check(profile, cleaned_rules, existing)

    by_metric = {rule.metric: rule for rule in existing.values()}
    claimed_ids = {rule["id"] for rule in cleaned_rules if rule.get("id") is not None}
    kept: set[int] = set()
    for position, cleaned in enumerate(cleaned_rules):
        stored = existing.get(cleaned.get("id")) if cleaned.get("id") is not None else None
        if stored is None:
            candidate = by_metric.get(cleaned["metric"])
            if candidate is not None and candidate.pk not in claimed_ids and candidate.pk not in kept:
                stored = candidate
        values = {**_rule_values(cleaned), "position": position}
        if stored is None:
            rule = ScoreRule(profile=profile, **values)
            rule._history_user = changed_by
            rule.save()
            continue
        kept.add(stored.pk)
        if any(getattr(stored, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(stored, field, value)
            stored._history_user = changed_by
            stored.save()
    for rule in existing.values():
        if rule.pk not in kept:
            rule._history_user = changed_by
            rule.delete()

    if bump_version:
        profile.version = current_version + 1
        profile._history_user = changed_by
        profile.save()
    return profile


@transaction.atomic
def tiers_update(*, changes: list[dict], changed_by=None) -> list[Tier]:
    """Change thresholds, target shares, names or service levels of several tiers at once.

    Each change is `{"code": "vip", "min_score": 92, ...}`. The whole resulting set is checked
    (thresholds strictly descending, every field valid) before anything is written."""
    if not isinstance(changes, list | tuple) or not all(isinstance(change, dict) for change in changes):
        raise DomainError(_("Tier changes must be a list of objects."), code="invalid", fields={"changes": []})
    tiers = {tier.code: tier for tier in Tier.objects.select_for_update().order_by("rank")}
    errors: dict[str, list[str]] = {}
    changed: dict[str, Tier] = {}
    for change in changes:
        code = str(change.get("code") or "")
        tier = tiers.get(code)
        if tier is None:
            errors.setdefault("code", []).append(_("Unknown tier code %(code)r.") % {"code": code})
            continue
        for field in sorted(set(change) - {"code"}):
            if field not in TIER_EDITABLE_FIELDS:
                errors.setdefault(f"{code}.{field}", []).append(_("This field cannot be changed here."))
                continue
            setattr(tier, field, change[field])
        changed[code] = tier
    if errors:
        raise DomainError(_("Invalid tier changes."), code="invalid", fields=errors)

    for code, tier in changed.items():
        try:
            tier.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(f"{code}.{field}", []).extend(messages)
    if errors:
        raise DomainError(_("Invalid tier changes."), code="invalid", fields=errors)
    threshold_errors = validate_tier_thresholds(
        {"code": t.code, "rank": t.rank, "name": t.name, "min_score": t.min_score, "target_share": t.target_share}
        for t in tiers.values()
    )
    if threshold_errors:
        raise DomainError(_("Invalid tier thresholds."), code="invalid", fields=threshold_errors)

    for tier in changed.values():
        tier._history_user = changed_by
        tier.save()
    return list(tiers.values())


# --- many customers, little memory -------------------------------------------------------------

DEFAULT_CHUNK_SIZE = 20000


def metric_tables_stream(customers, as_of: datetime.date, *, chunk_size: int = DEFAULT_CHUNK_SIZE):
    """Metric tables for consecutive id ranges of `customers`: at most one chunk of rows is held
    at a time and no model instance is ever built."""
    ids = customers.order_by("id").values_list("id", flat=True)
    after_id = None
    while True:
        remaining = ids if after_id is None else ids.filter(id__gt=after_id)
        chunk_end = remaining[chunk_size - 1 : chunk_size].first()
        table = metric_table(_id_range(customers, after_id, chunk_end), as_of)
        if len(table):
            yield table
        if chunk_end is None:
            return
        after_id = chunk_end


def _id_range(customers, after_id: int | None, last_id: int | None):
    if after_id is not None:
        customers = customers.filter(id__gt=after_id)
    if last_id is not None:
        customers = customers.filter(id__lte=last_id)
    return customers


def metric_tables_concat(tables: list[MetricTable], as_of: datetime.date) -> MetricTable:
    """One table from chunk tables (plain arrays only, a few dozen bytes per customer)."""
    if not tables:
        return metric_table(Customer.objects.none(), as_of)
    fields = [f.name for f in dataclasses.fields(MetricTable) if f.name not in ("as_of", "metrics")]
    return MetricTable(
        as_of=as_of,
        metrics={key: np.concatenate([t.metrics[key] for t in tables]) for key in tables[0].metrics},
        **{name: np.concatenate([getattr(t, name) for t in tables]) for name in fields},
    )


def populations_from(table: MetricTable, profiles: list[engine.ProfileSpec]) -> dict[str, np.ndarray]:
    """Sorted values of the metrics percentile rules use, taken from a table of all active customers."""
    needed = {r.metric for p in profiles for r in p.rules if r.normalisation == "percentile"}
    return {metric: np.sort(values[~np.isnan(values)]) for metric, values in table.metrics.items() if metric in needed}
