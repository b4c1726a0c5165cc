"""The downgrade letter (降级说明函): what changed, which factors, and what would bring the customer back.

`downgrade_letter(customer)` builds the content from the append-only history and the rule book
of the downgrade's own run (weights, the former tier's threshold, tier names), so a letter reads
the same however the rules are edited later; for a run from before rule books were kept it uses
today's rules and says so. The template `tiering/downgrade_letter.html` renders it in the
customer's language whatever the reader's, dated in the business time zone.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from crm.models import Customer
from scoring.metrics import metric_label
from tiering import decide
from tiering.explanations import tier_as_recorded
from tiering.models import TierAssignment, TierChange
from tiering.rulebook import Rulebook, RulebookTier
from tiering.selectors import assignments_for, tier_changes_for


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
    from_tier: RulebookTier
    to_tier: RulebookTier
    score_before: float | None
    score: float
    points_to_return: float
    period: str
    dated: datetime.date
    rules_frozen: bool  # False: the run has no rule book, the figures use today's rules
    factors: list[LetterFactor] = field(default_factory=list)
    # The day a later upgrade reversed this downgrade (None: it stands), from the stored changes.
    reversed_on: datetime.date | None = None

    @property
    def lost_factors(self) -> list[LetterFactor]:
        """Factors that earned fewer points than at the previous evaluation, biggest loss first."""
        return sorted((f for f in self.factors if f.change is not None and f.change < 0), key=lambda f: f.change)


def _assignments_around(customer: Customer, change: TierChange) -> tuple[TierAssignment | None, TierAssignment | None]:
    """The assignment of the change's run (a manual change: the latest) and the one before it."""
    history = assignments_for(customer)
    current = history.filter(run_id=change.run_id).first() if change.run_id else history.first()
    if current is None:
        return None, None
    previous = history.filter(
        Q(run_as_of__lt=current.run_as_of) | Q(run_as_of=current.run_as_of, id__lt=current.pk)
    ).first()
    return current, previous


def business_date(moment: datetime.datetime) -> datetime.date:
    """The day a moment falls on in the business time zone, whatever zone is active."""
    return timezone.localtime(moment, zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def downgrade_reversed_on(customer: Customer, change: TierChange) -> datetime.date | None:
    """The day of the first upgrade after `change` (a change read through tier_changes_for, in its
    order: by day, then id), or None while the downgrade stands."""
    later = (
        tier_changes_for(customer)
        .filter(direction=TierChange.Direction.UPGRADE)
        .filter(Q(day__gt=change.day) | Q(day=change.day, id__gt=change.pk))
        .order_by("day", "id")
        .values_list("day", flat=True)
        .first()
    )
    if isinstance(later, datetime.datetime):  # a backend that truncates to a moment, not a date
        later = later.date()
    return later


def downgrade_letter(customer: Customer) -> DowngradeLetter:
    """The letter for the customer's latest downgrade; DomainError when there is none."""
    change = tier_changes_for(customer).filter(direction=TierChange.Direction.DOWNGRADE).first()
    if change is None or change.from_tier is None:
        raise DomainError(
            _("This customer has no downgrade to explain."), code="not_found", fields={"customer": [customer.code]}
        )
    current, previous_assignment = _assignments_around(customer, change)
    rulebook = Rulebook.of_run(current.run) if current else Rulebook.today()
    from_tier = tier_as_recorded(rulebook, change.from_tier)
    points = current.points if current else {}
    previous = previous_assignment.points if previous_assignment else None
    max_points = rulebook.max_points(current.profile_id) if current else {}
    score = float(change.score)
    gap, rows = decide.points_to_reach(
        total=score, target=float(from_tier.min_score), points=points, max_points=max_points
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
        from_tier=from_tier,
        to_tier=tier_as_recorded(rulebook, change.to_tier),
        score_before=None if change.score_before is None else float(change.score_before),
        score=score,
        points_to_return=gap,
        period=change.run.period if change.run else "",
        dated=business_date(change.created_at),
        rules_frozen=rulebook.frozen,
        factors=factors,
        reversed_on=downgrade_reversed_on(customer, change),
    )


def downgrade_letter_html(customer: Customer) -> str:
    """The complete printable page, in the customer's language."""
    letter = downgrade_letter(customer)
    with translation.override(letter.language):
        return render_to_string("tiering/downgrade_letter.html", {"letter": letter, "customer": customer})
