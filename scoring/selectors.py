"""Reads for scoring: tiers and active profiles loaded into the engine's specs, metric tables
of many customers in bounded memory, live scores, and customers per tier."""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Prefetch, QuerySet

from crm.models import Customer
from scoring import engine
from scoring.metrics import MetricTable, metric_table
from scoring.models import ScoreRule, ScoringProfile, Tier
from scoring.tables import ScoredTable, TierSet, score_table
from scoring.validation import RULE_FIELDS


def tiers_load() -> TierSet:
    tiers = list(Tier.objects.order_by("rank"))
    if not tiers:
        raise LookupError("no tiers are defined")
    specs = [engine.TierSpec(code=t.code, rank=t.rank, min_score=float(t.min_score)) for t in tiers]
    return TierSet(specs=specs, ids=np.array([t.pk for t in tiers], dtype=np.int64), by_code={t.code: t for t in tiers})


def rule_spec(rule: ScoreRule) -> engine.RuleSpec:
    return engine.rule_spec_from({field: getattr(rule, field) for field in RULE_FIELDS})


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


def percentile_populations(profiles: list[engine.ProfileSpec], as_of: datetime.date) -> dict[str, np.ndarray]:
    """Sorted metric values of all active customers, only for metrics that percentile rules use."""
    needed = {r.metric for p in profiles for r in p.rules if r.normalisation == "percentile"}
    if not needed:
        return {}
    table = metric_table(Customer.objects.filter(status=Customer.Status.ACTIVE), as_of)
    return {metric: np.sort(values[~np.isnan(values)]) for metric, values in table.metrics.items() if metric in needed}


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


def customer_tier_distribution(customers: QuerySet) -> tuple[list[dict], int, int]:
    """Per tier (highest first): customers, share and target share; also the untiered count and the total."""
    counts = dict(customers.order_by().values_list("tier_id").annotate(total=Count("id")))
    total = sum(counts.values())
    rows = []
    for tier in Tier.objects.order_by("rank"):
        count = counts.get(tier.pk, 0)
        rows.append(
            {
                "tier": tier,
                "count": count,
                "share": round(count * 100 / total, 1) if total else 0.0,
                "target_share": float(tier.target_share),
            }
        )
    return rows, counts.get(None, 0), total
