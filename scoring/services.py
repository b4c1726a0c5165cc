"""Score customers with the rules administrators keep in the database.

Loads tiers and profiles into the pure specs of `scoring.engine`, computes metrics in bulk
with `scoring.metrics`, and returns arrays a tier run, a simulation or a detail page can use.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
from django.db.models import Prefetch

from crm.models import Customer
from scoring import engine
from scoring.metrics import MetricTable, metric_table
from scoring.models import ScoreRule, ScoringProfile, Tier


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
        return [
            engine.RulePoints(
                metric=rule.metric,
                category=rule.category,
                value=self.table.row(index).get(rule.metric),
                points=round(float(self.points[rule.metric][index]), 2),
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
        table=table, tiers=tiers, profiles=by_id, profile_ids=profile_ids,
        totals=totals, tier_index=tier_index, points=points,
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
