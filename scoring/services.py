"""Writes to the rules administrators keep: a profile's whole rule set and category split, and
tiers' thresholds, names and service levels. The admin and the API both save through here;
reads are in scoring.selectors.

Every write takes the `reason` the person gave; it becomes the change reason of each history
row the write makes, so the history says who changed what, when and why. The admin and the
API refuse a change without one; this module requires it only for a new category split, so
scripts and fixtures that create profiles keep working."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from scoring.models import ScoreRule, ScoringProfile, Tier
from scoring.validation import (
    REASON_REQUIRED,
    RULE_FIELDS,
    SPLIT_FIELDS,
    TIER_EDITABLE_FIELDS,
    reason_clean,
    rules_clean,
    validate_tier_thresholds,
)

# --- writes: rule sets and tiers ---------------------------------------------------------------


def _rule_values(cleaned: dict) -> dict:
    """A cleaned rule as ScoreRule field values (bands stored as JSON numbers)."""
    values = {field: cleaned[field] for field in RULE_FIELDS}
    values["bands"] = [[float(threshold), float(share)] for threshold, share in cleaned["bands"]]
    return values


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


def _recorded(instance, *, changed_by, reason: str | None):
    """Who and why, for the history row simple-history writes when `instance` is saved or deleted."""
    instance._history_user = changed_by
    instance._change_reason = reason
    return instance


@transaction.atomic
def profile_rules_update(
    *,
    profile: ScoringProfile,
    rules: list[dict],
    changed_by=None,
    reason: str | None = None,
    split: Mapping[str, Decimal] | None = None,
    bump_version: bool = True,
) -> ScoringProfile:
    """Replace a profile's whole rule set and save the profile as the next version.

    The set is validated as a whole first (each category's rules add up to the profile's split,
    caps above floors...), so a profile never holds a half-edited set. `split` changes the
    category split (e.g. {"quantitative": 65, "qualitative": 35}; a category left out keeps its
    points); a new split needs a `reason`, since it changes what the whole score means. A rule
    is matched to a stored one by `id`, or else by metric, which keeps each rule's change
    history continuous; stored rules left out are deleted. The profile's own fields are saved as
    they are on `profile`. `bump_version=False` is only for a profile created in the same
    transaction (it starts at version 1)."""
    reason = reason_clean(reason)
    if split:
        for category, points in split.items():
            if category not in SPLIT_FIELDS:
                message = _("%(category)r is not part of the split; it has quantitative and qualitative points.")
                raise DomainError(
                    _("Invalid category split."), code="invalid", fields={"split": [message % {"category": category}]}
                )
            setattr(profile, SPLIT_FIELDS[category], points)
    cleaned_rules, errors = rules_clean(rules, split=profile.split)
    if errors:
        raise DomainError(_("Invalid scoring rules."), code="invalid", fields=errors)
    stored = (
        ScoringProfile.objects.select_for_update()
        .filter(pk=profile.pk)
        .values("version", *SPLIT_FIELDS.values())
        .first()
    )
    if stored is None:
        raise DomainError(_("This scoring profile no longer exists."), code="not_found")
    current_version = stored["version"]
    split_changed = any(stored[field] != getattr(profile, field) for field in SPLIT_FIELDS.values())
    if split_changed and reason is None:
        raise DomainError(
            _("Changing the category split needs a reason."), code="invalid", fields={"reason": [str(REASON_REQUIRED)]}
        )
    existing = {rule.pk: rule for rule in ScoreRule.objects.filter(profile=profile)}
    _rule_ids_check(profile, cleaned_rules, existing)

    by_metric = {rule.metric: rule for rule in existing.values()}
    claimed_ids = {rule["id"] for rule in cleaned_rules if rule.get("id") is not None}
    kept: set[int] = set()
    for position, cleaned in enumerate(cleaned_rules):
        stored_rule = existing.get(cleaned.get("id")) if cleaned.get("id") is not None else None
        if stored_rule is None:
            candidate = by_metric.get(cleaned["metric"])
            if candidate is not None and candidate.pk not in claimed_ids and candidate.pk not in kept:
                stored_rule = candidate
        values = {**_rule_values(cleaned), "position": position}
        if stored_rule is None:
            _recorded(ScoreRule(profile=profile, **values), changed_by=changed_by, reason=reason).save()
            continue
        kept.add(stored_rule.pk)
        if any(getattr(stored_rule, field) != value for field, value in values.items()):
            for field, value in values.items():
                setattr(stored_rule, field, value)
            _recorded(stored_rule, changed_by=changed_by, reason=reason).save()
    for rule in existing.values():
        if rule.pk not in kept:
            _recorded(rule, changed_by=changed_by, reason=reason).delete()

    if bump_version:
        profile.version = current_version + 1
        _recorded(profile, changed_by=changed_by, reason=reason).save()
    return profile


@transaction.atomic
def tiers_update(*, changes: list[dict], changed_by=None, reason: str | None = None) -> list[Tier]:
    """Change thresholds, target shares, names or service levels of several tiers at once.

    Each change is `{"code": "vip", "min_score": 92, ...}`. The whole resulting set is checked
    (thresholds strictly descending, every field valid) before anything is written. Only tiers
    whose values differ are saved, each with one history row recording `reason`."""
    reason = reason_clean(reason)
    if not isinstance(changes, list | tuple) or not all(isinstance(change, dict) for change in changes):
        raise DomainError(_("Tier changes must be a list of objects."), code="invalid", fields={"changes": []})
    tiers = {tier.code: tier for tier in Tier.objects.select_for_update().order_by("rank")}
    before = {code: [getattr(tier, field) for field in TIER_EDITABLE_FIELDS] for code, tier in tiers.items()}
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

    for code, tier in changed.items():
        if [getattr(tier, field) for field in TIER_EDITABLE_FIELDS] != before[code]:
            _recorded(tier, changed_by=changed_by, reason=reason).save()
    return list(tiers.values())


def calibration_reason(*, as_of: datetime.date, note: str = "") -> str:
    """The change reason of applied calibration thresholds, so the history tells them apart from a hand edit."""
    reason = _("Calibration to target shares as of %(date)s") % {"date": as_of.isoformat()}
    note = reason_clean(note)
    return f"{reason}: {note}" if note else reason


def tiers_calibration_apply(
    *, min_scores: Mapping[str, Decimal], as_of: datetime.date, changed_by=None, note: str = ""
) -> list[Tier]:
    """Save the thresholds a calibration suggested (as of `as_of`), recorded as a calibration."""
    return tiers_update(
        changes=[{"code": code, "min_score": value} for code, value in min_scores.items()],
        changed_by=changed_by,
        reason=calibration_reason(as_of=as_of, note=note),
    )
