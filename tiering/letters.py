"""The downgrade letter (降级说明函): what changed, which factors, and what would bring the customer back.

`downgrade_letter(customer)` builds the content from the append-only history; the template
`tiering/downgrade_letter.html` renders it in the customer's language whatever the reader's.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from crm.models import Customer
from scoring.metrics import metric_label
from scoring.models import ScoreRule, Tier
from tiering import decide
from tiering.models import TierAssignment, TierChange


@dataclass(frozen=True)
class LetterFactor:
    metric: str
    points: float
    max_points: float
    previous_points: float | None
    needed: float  # points this factor could contribute towards the former tier

    @property
    def label(self) -> str:
        return metric_label(self.metric)

    @property
    def change(self) -> float | None:
        return None if self.previous_points is None else round(self.points - self.previous_points, 2)


@dataclass(frozen=True)
class DowngradeLetter:
    customer: Customer
    language: str
    change: TierChange
    from_tier: Tier
    to_tier: Tier
    score_before: float | None
    score: float
    points_to_return: float
    period: str
    dated: datetime.date
    factors: list[LetterFactor] = field(default_factory=list)

    @property
    def lost_factors(self) -> list[LetterFactor]:
        """Factors that earned fewer points than at the previous evaluation, biggest loss first."""
        return sorted((f for f in self.factors if f.change is not None and f.change < 0), key=lambda f: f.change)


def _assignment_points(customer: Customer, change: TierChange) -> tuple[dict, dict | None, int | None]:
    """Points at the change's run and at the evaluation before it."""
    history = TierAssignment.objects.filter(customer=customer).select_related("run").order_by("-created_at", "-id")
    current = history.filter(run=change.run).first() if change.run_id else history.first()
    if current is None:
        return {}, None, None
    previous = history.filter(created_at__lte=current.created_at).exclude(pk=current.pk).first()
    return current.points, (previous.points if previous else None), current.profile_id


def downgrade_letter(customer: Customer) -> DowngradeLetter:
    """The letter for the customer's latest downgrade; DomainError when there is none."""
    change = (
        TierChange.objects.filter(customer=customer, direction=TierChange.Direction.DOWNGRADE)
        .select_related("from_tier", "to_tier", "run")
        .order_by("-created_at", "-id")
        .first()
    )
    if change is None or change.from_tier is None:
        raise DomainError(
            _("This customer has no downgrade to explain."), code="not_found", fields={"customer": [customer.code]}
        )
    points, previous, profile_id = _assignment_points(customer, change)
    max_points = {
        rule.metric: float(rule.weight)
        for rule in ScoreRule.objects.filter(profile_id=profile_id).only("metric", "weight")
    }
    score = float(change.score)
    gap, rows = decide.points_to_reach(
        total=score, target=float(change.from_tier.min_score), points=points, max_points=max_points
    )
    needed = {row["metric"]: row["needed"] for row in rows}
    factors = [
        LetterFactor(
            metric=metric,
            points=float(value),
            max_points=max_points.get(metric, 0.0),
            previous_points=None if previous is None or metric not in previous else float(previous[metric]),
            needed=needed.get(metric, 0.0),
        )
        for metric, value in points.items()
    ]
    factors.sort(key=lambda f: (-f.needed, f.metric))
    return DowngradeLetter(
        customer=customer,
        language=customer.language or Customer.Language.ZH_HANS,
        change=change,
        from_tier=change.from_tier,
        to_tier=change.to_tier,
        score_before=None if change.score_before is None else float(change.score_before),
        score=score,
        points_to_return=gap,
        period=change.run.period if change.run else "",
        dated=change.created_at.date(),
        factors=factors,
    )


def downgrade_letter_html(customer: Customer) -> str:
    """The complete printable page, in the customer's language."""
    letter = downgrade_letter(customer)
    with translation.override(letter.language):
        return render_to_string("tiering/downgrade_letter.html", {"letter": letter, "customer": customer})
