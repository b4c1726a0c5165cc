"""What a tier evaluation needs besides the customers: tiers, profiles and the administrator's knobs."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
from django.db.models import Q

from crm.models import Customer
from scoring import engine
from scoring.selectors import percentile_populations, profiles_load, tiers_load
from scoring.tables import TierSet
from tiering import decide
from tiering.models import TieringSettings, TierOverride, TierRun, TierRunPopulation
from tiering.rulebook import Rulebook


@dataclass
class EvaluationContext:
    as_of: datetime.date
    tiers: TierSet
    profiles: list[engine.ProfileSpec]
    populations: dict[str, np.ndarray]
    settings: TieringSettings

    @classmethod
    def load(cls, as_of: datetime.date) -> EvaluationContext:
        profiles = profiles_load()
        return cls(
            as_of=as_of,
            tiers=tiers_load(),
            profiles=profiles,
            populations=percentile_populations(profiles, as_of),
            settings=TieringSettings.current(),
        )

    @classmethod
    def for_run(cls, run: TierRun) -> EvaluationContext:
        """What the run froze at its start: its rule book and percentile populations. A run from
        before rule books were kept (resumed after the upgrade) scores with today's rules."""
        if not run.rulebook:
            return cls.load(run.as_of)
        rulebook = Rulebook(run.rulebook, frozen=True)
        return cls(
            as_of=run.as_of,
            tiers=rulebook.tier_set(),
            profiles=rulebook.profile_specs(),
            populations=run_populations(run.pk),
            settings=rulebook.settings(),
        )

    @property
    def min_scores(self) -> np.ndarray:
        return np.array([spec.min_score for spec in self.tiers.specs], dtype=float)

    @property
    def codes(self) -> list[str]:
        return [spec.code for spec in self.tiers.specs]

    def index_of_ids(self, tier_ids: np.ndarray) -> np.ndarray:
        """Tier index for each tier id (UNTIERED for -1 or an unknown id)."""
        tier_ids = np.asarray(tier_ids, dtype=np.int64)
        result = np.full(len(tier_ids), decide.UNTIERED, dtype=np.int64)
        for index, tier_id in enumerate(self.tiers.ids):
            result[tier_ids == tier_id] = index
        return result

    @property
    def grace(self) -> decide.GraceRule:
        return decide.GraceRule(runs=self.settings.grace_runs, buffer=float(self.settings.grace_buffer))

    @property
    def flag_rule(self) -> decide.FlagRule:
        s = self.settings
        return decide.FlagRule(
            spend_up_percent=float(s.spend_up_percent),
            spend_down_percent=float(s.spend_down_percent),
            complaints_threshold=s.complaints_threshold,
            no_order_months=s.no_order_months,
        )

    @property
    def lifecycle_rule(self) -> decide.LifecycleRule:
        s = self.settings
        return decide.LifecycleRule(
            new_months=s.lifecycle_new_months,
            mature_months=s.lifecycle_mature_months,
            silent_months=s.lifecycle_silent_months,
            lost_months=s.lifecycle_lost_months,
        )


def run_populations(run_id: int) -> dict[str, np.ndarray]:
    """The sorted values the run's percentile rules rank against, as frozen at its start."""
    return {
        metric: np.asarray(values, dtype=float)
        for metric, values in TierRunPopulation.objects.filter(run_id=run_id).values_list("metric", "values")
    }


def overrides_active_q(as_of: datetime.date) -> Q:
    """An override applies until (not including) its expiry date."""
    return Q(expires_on__isnull=True) | Q(expires_on__gt=as_of)


def override_tier_ids(customer_ids: np.ndarray, as_of: datetime.date, *, first: int, last: int) -> np.ndarray:
    """Override tier id per customer (-1 = none), one query for the id range."""
    result = np.full(len(customer_ids), -1, dtype=np.int64)
    rows = list(
        TierOverride.objects.filter(
            overrides_active_q(as_of), customer_id__gte=first, customer_id__lte=last
        ).values_list("customer_id", "tier_id")
    )
    if rows:
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        positions = np.searchsorted(customer_ids, ids)
        inside = (positions < len(customer_ids)) & (customer_ids[np.minimum(positions, len(customer_ids) - 1)] == ids)
        result[positions[inside]] = np.array([r[1] for r in rows], dtype=np.int64)[inside]
    return result


def scope_customers(scope: str, tiers: TierSet, *, prospects_untiered: bool = False):
    """Customers a run of this scope evaluates: everyone, or the top tier plus flagged customers;
    without prospects (no deal yet) when the rule book leaves them untiered."""
    customers = Customer.objects.all()
    if prospects_untiered:
        customers = customers.filter(cooperation_since__isnull=False)
    if scope == TierRun.Scope.VIP_AND_AT_RISK:
        customers = customers.filter(Q(tier_id=int(tiers.ids[0])) | ~Q(flags=[]))
    return customers
