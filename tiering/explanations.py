"""What a stored assignment says: the points each rule earned against what it could give, the
threshold of its tier, and for a downgrade the points that would bring the customer back.

Figures come from the rule book of the assignment's own run (tiering.rulebook), never from
today's rules, so the history and letters of a run read the same after the rules are edited.
A run from before rule books were kept is explained with today's rules, and says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scoring.models import Tier
from tiering import decide
from tiering.models import TierAssignment
from tiering.rulebook import Rulebook, RulebookTier


@dataclass(frozen=True)
class AssignmentExplanation:
    rules_frozen: bool  # False: the run has no rule book and today's rules stand in
    profile_name: str
    tier: RulebookTier
    previous_tier: RulebookTier | None
    rule_points: list[dict]  # {"metric", "points", "max_points"} in the profile's rule order
    points_to_return: float | None  # a downgrade's gap to the former tier's threshold


def tier_as_recorded(rulebook: Rulebook, tier: Tier | None) -> RulebookTier | None:
    """The tier as the rule book recorded it; a tier it does not know (created after the run)
    as it is today."""
    if tier is None:
        return None
    recorded = rulebook.tier(tier.pk)
    if recorded is not None:
        return recorded
    return RulebookTier(
        id=tier.pk, code=tier.code, rank=tier.rank, min_score=tier.min_score, name_zh=tier.name_zh, name_en=tier.name_en
    )


def rulebooks_for(assignments: Iterable[TierAssignment]) -> dict[int, Rulebook]:
    """The rule book of each assignment's run, by run id: each read once, and today's rules built
    once for all the runs that have none."""
    books: dict[int, Rulebook] = {}
    today = None
    for assignment in assignments:
        run = assignment.run
        if run.pk in books:
            continue
        if not run.rulebook and today is None:
            today = Rulebook.today()
        books[run.pk] = Rulebook.of_run(run, today=today)
    return books


def explain(assignment: TierAssignment, rulebook: Rulebook) -> AssignmentExplanation:
    points = assignment.points
    max_points = rulebook.max_points(assignment.profile_id)
    tier = tier_as_recorded(rulebook, assignment.tier)
    previous_tier = tier_as_recorded(rulebook, assignment.previous_tier)
    points_to_return = None
    if previous_tier is not None and previous_tier.rank < tier.rank:
        points_to_return, _rows = decide.points_to_reach(
            total=float(assignment.score),
            target=float(previous_tier.min_score),
            points=points,
            max_points=max_points,
        )
    return AssignmentExplanation(
        rules_frozen=rulebook.frozen,
        profile_name=rulebook.profile_name(assignment.profile_id) or assignment.profile.name,
        tier=tier,
        previous_tier=previous_tier,
        rule_points=[
            {"metric": metric, "points": points.get(metric), "max_points": weight}
            for metric, weight in max_points.items()
        ],
        points_to_return=points_to_return,
    )


def explanations_for(assignments: list[TierAssignment]) -> dict[int, AssignmentExplanation]:
    """Explanations by assignment id, for a page of history (its runs selected with it)."""
    books = rulebooks_for(assignments)
    return {assignment.pk: explain(assignment, books[assignment.run_id]) for assignment in assignments}
