"""Evaluate a set of customers: score them, then decide tier, lifecycle and flags. Writes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm.models import Customer
from scoring.metrics import MetricTable, metric_table
from scoring.tables import ScoredTable, score_table
from tiering import decide, persist
from tiering.models import metric_keys_default
from tiering.services.context import EvaluationContext, override_tier_ids


@dataclass
class Evaluation:
    scored: ScoredTable
    decision: decide.TierDecision
    lifecycle: np.ndarray
    flags: list[list[str]]
    context: EvaluationContext
    spend_before: np.ndarray  # the 12-month spend the spend flags compared with

    @property
    def customer_ids(self) -> np.ndarray:
        return self.scored.table.customer_ids

    def __len__(self) -> int:
        return len(self.scored)

    def tier_id(self, indexes: np.ndarray) -> np.ndarray:
        ids = self.context.tiers.ids
        indexes = np.asarray(indexes, dtype=np.int64)
        return np.where(indexes == decide.UNTIERED, -1, ids[np.maximum(indexes, 0)])

    def code_counts(self, indexes: np.ndarray) -> dict[str, int]:
        codes = self.context.codes
        counts: dict[str, int] = {}
        values, numbers = np.unique(np.asarray(indexes, dtype=np.int64), return_counts=True)
        for index, number in zip(values.tolist(), numbers.tolist(), strict=True):
            key = "untiered" if index == decide.UNTIERED else codes[index]
            counts[key] = int(number)
        return counts

    def points_of(self, index: int) -> dict[str, float]:
        """Points per rule of the customer's profile."""
        profile = self.scored.profiles[int(self.scored.profile_ids[index])]
        return {rule.metric: round(float(self.scored.points[rule.metric][index]), 2) for rule in profile.rules}

    def max_points_of(self, index: int) -> dict[str, float]:
        profile = self.scored.profiles[int(self.scored.profile_ids[index])]
        return {rule.metric: float(rule.weight) for rule in profile.rules}


def spend_at_last_run(table: MetricTable, *, exclude_run_id: int = 0) -> np.ndarray:
    """Each customer's 12-month spend at its latest run (outside `exclude_run_id`), from that
    run's snapshot: the customer row's spend is the live figure, which re-evaluation moves. A
    customer never tiered keeps the row's spend (its spend flags are off anyway)."""
    tiered = np.nonzero(table.tier_id >= 0)[0]
    spend = np.asarray(table.spend_12m_before, dtype=float).copy()
    if not tiered.size:
        return spend
    keys = metric_keys_default()  # the snapshots' width: PostgreSQL then reads them in one pass
    before = persist.previous_metrics(
        exclude_run_id=exclude_run_id, customer_ids=table.customer_ids[tiered].tolist(), keys=keys
    )[:, keys.index("spend_12m")]
    spend[tiered] = np.where(np.isnan(before), spend[tiered], before)
    return spend


def customers_evaluate(
    customers,
    context: EvaluationContext,
    *,
    first: int,
    last: int,
    count_this_run: bool = True,
    spend_from_history: bool = False,
    exclude_run_id: int = 0,
) -> Evaluation:
    """Score the customers of a queryset whose ids lie in [first, last] in a fixed number of queries.

    `spend_from_history`: the spend flags compare with the spend of each customer's last run
    (outside `exclude_run_id`), not with the customer row's live spend."""
    settings = context.settings
    table = metric_table(customers, context.as_of, complaints_window_days=settings.complaints_window_days)
    spend_before = (
        spend_at_last_run(table, exclude_run_id=exclude_run_id) if spend_from_history else table.spend_12m_before
    )
    scored = score_table(table, profiles=context.profiles, tiers=context.tiers, populations=context.populations)
    previous_index = context.index_of_ids(table.tier_id)
    override_index = context.index_of_ids(override_tier_ids(table.customer_ids, context.as_of, first=first, last=last))
    decision = decide.tiers_decide(
        computed_index=scored.tier_index,
        totals=scored.totals,
        previous_index=previous_index,
        runs_below_before=table.runs_below_threshold,
        override_index=override_index,
        min_scores=context.min_scores,
        grace=context.grace,
        count_this_run=count_this_run,
    )
    lifecycle = decide.lifecycle_stages(
        as_of=context.as_of,
        status=table.status,
        cooperation_since=table.cooperation_since,
        last_order=table.last_order,
        last_interaction=table.last_interaction,
        rule=context.lifecycle_rule,
        terminated_status=Customer.Status.TERMINATED,
    )
    flags = decide.early_warning_flags(
        as_of=context.as_of,
        spend=table.metrics["spend_12m"],
        spend_before=spend_before,
        tiered=previous_index != decide.UNTIERED,
        complaints_recent=table.complaints_recent,
        cooperation_since=table.cooperation_since,
        last_order=table.last_order,
        active=table.status == Customer.Status.ACTIVE,
        rule=context.flag_rule,
    )
    return Evaluation(
        scored=scored, decision=decision, lifecycle=lifecycle, flags=flags, context=context, spend_before=spend_before
    )
