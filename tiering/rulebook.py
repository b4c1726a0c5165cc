"""A run's rule book: what it scores with, frozen as plain JSON when it starts.

`rulebook_build()` reads today's active profiles with their rules, the tiers and the settings
that decide grace and warnings; the run stores the result (TierRun.rulebook). `Rulebook` reads
such a record back: the engine's specs for the run's chunks and for verify_history, and the
weights, thresholds and names that letters and history explain a stored score with. Reading a
run's own rule book, never today's rules, is what keeps its figures the same when rules change.

Decimals are stored as strings: exact, and `float()` of them is what the engine computes with.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db.models import Prefetch
from django.utils.translation import get_language

from scoring import engine
from scoring.models import ScoreRule, ScoringProfile, Tier
from scoring.tables import TierSet
from scoring.validation import RULE_FIELDS
from tiering.models import TieringSettings, TierRun

FORMAT = 1
# The TieringSettings values a run decides grace, warnings and lifecycle with.
SETTINGS_FIELDS = (
    "grace_runs",
    "grace_buffer",
    "warning_days_before",
    "spend_up_percent",
    "spend_down_percent",
    "complaints_threshold",
    "complaints_window_days",
    "no_order_months",
    "lifecycle_new_months",
    "lifecycle_mature_months",
    "lifecycle_silent_months",
    "lifecycle_lost_months",
    "prospects_untiered",
)


def _plain(value):
    """A stored value as JSON: Decimals as exact strings."""
    if isinstance(value, Decimal):
        return str(value)
    return value


def rulebook_build(*, include_inactive: bool = False) -> dict:
    """Today's rules as a rule book, in four queries. `include_inactive` also takes inactive
    profiles: only to explain history of runs from before rule books were kept."""
    profiles = ScoringProfile.objects.prefetch_related(
        Prefetch("rules", queryset=ScoreRule.objects.order_by("position", "id")), "industries"
    ).order_by("id")
    if not include_inactive:
        profiles = profiles.filter(is_active=True)
    settings = TieringSettings.current()
    return {
        "format": FORMAT,
        "profiles": [
            {
                "id": profile.pk,
                "name": profile.name,
                "version": profile.version,
                "is_default": profile.is_default,
                "customer_type": profile.customer_type,
                "industry_ids": sorted(industry.pk for industry in profile.industries.all()),
                "split": {
                    "quantitative": _plain(profile.quantitative_points),
                    "qualitative": _plain(profile.qualitative_points),
                },
                "rules": [
                    {**{name: _plain(getattr(rule, name)) for name in RULE_FIELDS}, "position": rule.position}
                    for rule in profile.rules.all()
                ],
            }
            for profile in profiles
        ],
        "tiers": [
            {
                "id": tier.pk,
                "code": tier.code,
                "rank": tier.rank,
                "min_score": _plain(tier.min_score),
                "name_zh": tier.name_zh,
                "name_en": tier.name_en,
            }
            for tier in Tier.objects.order_by("rank")
        ],
        "settings": {name: _plain(getattr(settings, name)) for name in SETTINGS_FIELDS},
    }


@dataclass(frozen=True)
class RulebookTier:
    """A tier as a rule book recorded it; `name` follows the active language like Tier.name."""

    id: int
    code: str
    rank: int
    min_score: Decimal
    name_zh: str
    name_en: str

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    def __str__(self) -> str:
        return self.name


class Rulebook:
    """Reads a stored rule book. `frozen` is False for today's rules standing in for a run from
    before rule books were kept: readers show that the figures are today's."""

    def __init__(self, data: dict, *, frozen: bool):
        self.data = data
        self.frozen = frozen
        self._profiles = {profile["id"]: profile for profile in data.get("profiles", [])}
        self._tiers = {
            tier["id"]: RulebookTier(
                id=tier["id"],
                code=tier["code"],
                rank=tier["rank"],
                min_score=Decimal(tier["min_score"]),
                name_zh=tier["name_zh"],
                name_en=tier["name_en"],
            )
            for tier in data.get("tiers", [])
        }

    @classmethod
    def today(cls) -> Rulebook:
        """Today's rules, for explaining a run from before rule books were kept."""
        return cls(rulebook_build(include_inactive=True), frozen=False)

    @classmethod
    def of_run(cls, run: TierRun, *, today: Rulebook | None = None) -> Rulebook:
        """The run's own rule book, or (`today`, else built now) today's rules when it has none."""
        if run.rulebook:
            return cls(run.rulebook, frozen=True)
        return today or cls.today()

    # --- what letters and history explain with -----------------------------------------------

    def tier(self, tier_id: int | None) -> RulebookTier | None:
        return self._tiers.get(tier_id)

    @property
    def tiers(self) -> list[RulebookTier]:
        """Highest first."""
        return sorted(self._tiers.values(), key=lambda tier: tier.rank)

    def profile_name(self, profile_id: int) -> str | None:
        profile = self._profiles.get(profile_id)
        return profile["name"] if profile else None

    def max_points(self, profile_id: int) -> dict[str, float]:
        """Each rule's weight (the points it can give), in the profile's rule order."""
        profile = self._profiles.get(profile_id)
        return {rule["metric"]: float(rule["weight"]) for rule in profile["rules"]} if profile else {}

    def categories(self, profile_id: int) -> dict[str, str]:
        profile = self._profiles.get(profile_id)
        return {rule["metric"]: rule["category"] for rule in profile["rules"]} if profile else {}

    # --- what a run scores with ----------------------------------------------------------------

    def profile_specs(self) -> list[engine.ProfileSpec]:
        return [
            engine.ProfileSpec(
                id=profile["id"],
                name=profile["name"],
                version=profile["version"],
                rules=tuple(engine.rule_spec_from(rule) for rule in profile["rules"]),
                customer_type=profile["customer_type"],
                industry_ids=frozenset(profile["industry_ids"]),
                is_default=profile["is_default"],
            )
            for profile in self._profiles.values()
        ]

    def tier_set(self) -> TierSet:
        """The tiers as scoring.tables wants them; `by_code` holds unsaved Tier rows with the
        recorded values, for code that reads a Tier's fields."""
        tiers = self.tiers
        if not tiers:
            raise LookupError("the rule book has no tiers")
        return TierSet(
            specs=[engine.TierSpec(code=t.code, rank=t.rank, min_score=float(t.min_score)) for t in tiers],
            ids=np.array([t.id for t in tiers], dtype=np.int64),
            by_code={
                t.code: Tier(
                    pk=t.id, code=t.code, rank=t.rank, min_score=t.min_score, name_zh=t.name_zh, name_en=t.name_en
                )
                for t in tiers
            },
        )

    def settings(self) -> TieringSettings:
        """An unsaved TieringSettings holding the recorded values (the rest at their defaults)."""
        recorded = self.data["settings"]
        values = {name: recorded[name] for name in SETTINGS_FIELDS if name in recorded}
        # Rule books recorded before prospects were left out tiered them.
        values.setdefault("prospects_untiered", False)
        return TieringSettings(**values)

    @property
    def percentile_metrics(self) -> set[str]:
        return {
            rule["metric"]
            for profile in self._profiles.values()
            for rule in profile["rules"]
            if rule["normalisation"] == ScoreRule.Normalisation.PERCENTILE
        }
