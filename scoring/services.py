"""Writes to the rules administrators keep: a profile's whole rule set, and tiers' thresholds,
names and service levels. The admin and the API both save through here; reads are in
scoring.selectors."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from scoring.models import ScoreRule, ScoringProfile, Tier
from scoring.validation import RULE_FIELDS, TIER_EDITABLE_FIELDS, rules_clean, validate_tier_thresholds

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
