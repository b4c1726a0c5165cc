"""Checks on rule sets and tier thresholds, shared by the admin and the REST API.

Pure functions over plain values (dicts, `engine.RuleSpec`, `engine.TierSpec`): no queries, so the
admin formset, the API serializer and the services all give the same plain-words messages.
Errors come back as `{field: [message, ...]}`; an empty dict means the input is valid.

Keys: `rules` for problems of the whole rule set, `rules[<index>].<field>` for one rule,
`quantitative_points` / `qualitative_points` / `split` for a profile's category split,
`min_score` for the order of thresholds, `<tier code>.<field>` for one tier.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scoring.metrics import METRICS, metric_label
from scoring.models import ScoreRule

Category, Normalisation, Direction = ScoreRule.Category, ScoreRule.Normalisation, ScoreRule.Direction
CATEGORIES = tuple(Category.values)
SCORED_CATEGORIES = (Category.QUANTITATIVE, Category.QUALITATIVE)  # these must add up to the full score
NORMALISATIONS = tuple(Normalisation.values)
DIRECTIONS = tuple(Direction.values)
FULL_SCORE = Decimal(100)
# The ScoringProfile field that holds each scored category's points (its "split").
SPLIT_FIELDS = {Category.QUANTITATIVE: "quantitative_points", Category.QUALITATIVE: "qualitative_points"}

# Every change to rules, thresholds and service levels says why; the reason is kept as the
# history row's change reason.
REASON_MAX_LENGTH = 500
REASON_REQUIRED = gettext_lazy("Give a reason for this change; it is kept in the history beside who changed what.")

# What a rule says, in the order forms and the API show it: the ScoreRule fields an administrator
# edits, which are also engine.RuleSpec's fields. The admin, the API, the services and the
# simulation take the list from here.
RULE_FIELDS = ("metric", "category", "weight", "normalisation", "floor", "cap", "bands", "direction", "missing_value")
_RULE_KEYS = frozenset({"id", "position", *RULE_FIELDS})  # what a rule dict may carry

Errors = dict[str, list[str]]
# The tier fields administrators edit (in the admin form's order); the set of tiers itself comes from migrations.
TIER_EDITABLE_FIELDS = (
    "name_zh",
    "name_en",
    "min_score",
    "target_share",
    "colour",
    "dedicated_manager",
    "visit_frequency_zh",
    "visit_frequency_en",
    "first_response_minutes",
    "service_zh",
    "service_en",
)


def _add(errors: Errors, key: str, message: str) -> None:
    errors.setdefault(key, []).append(str(message))


def _number(value) -> Decimal | None:
    """A finite Decimal, or None when `value` is not a number (booleans are not numbers)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _plain(number: Decimal) -> str:
    """95.00 -> '95', 12.50 -> '12.5': figures in messages read like a person wrote them."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _category_name(category: str) -> str:
    """'quantitative', 'qualitative', 'bonus': the lower-case name used inside sentences."""
    names = {
        Category.QUANTITATIVE: _("quantitative"),
        Category.QUALITATIVE: _("qualitative"),
        Category.BONUS: _("bonus"),
    }
    return names.get(category, category)


def reason_clean(reason) -> str | None:
    """A change reason as stored: trimmed text, or None when there is none."""
    text = str(reason or "").strip()
    return text or None


def _as_dict(rule) -> dict:
    if dataclasses.is_dataclass(rule):
        return dataclasses.asdict(rule)
    if isinstance(rule, dict):
        return dict(rule)
    raise TypeError("a rule must be a dict or a RuleSpec")


def rule_clean(rule: dict, index: int, errors: Errors) -> dict:
    """One rule with numbers as Decimal and defaults filled; problems are added to `errors`."""
    key = f"rules[{index}]"
    data = _as_dict(rule)
    for unknown in sorted(set(data) - _RULE_KEYS):
        _add(errors, f"{key}.{unknown}", _("Unknown field %(field)r.") % {"field": unknown})
    cleaned = {"id": data.get("id"), "position": data.get("position", index)}

    metric = str(data.get("metric") or "").strip()
    if not metric:
        _add(errors, f"{key}.metric", _("Choose a metric."))
    elif metric not in METRICS:
        _add(
            errors,
            f"{key}.metric",
            _("Unknown metric %(metric)r; choose one of: %(known)s.") % {"metric": metric, "known": ", ".join(METRICS)},
        )
    cleaned["metric"] = metric

    for field, allowed, default in (
        ("category", CATEGORIES, None),
        ("normalisation", NORMALISATIONS, Normalisation.LINEAR),
        ("direction", DIRECTIONS, Direction.HIGHER),
    ):
        value = str(data.get(field) or default or "").strip()
        if value not in allowed:
            _add(
                errors,
                f"{key}.{field}",
                _("%(value)r is not a valid %(field)s; choose one of: %(allowed)s.")
                % {"value": value, "field": field, "allowed": ", ".join(allowed)},
            )
        cleaned[field] = value

    weight = _number(data.get("weight"))
    if weight is None:
        _add(errors, f"{key}.weight", _("Weight must be a number of points."))
    elif weight < 0:
        _add(errors, f"{key}.weight", _("Weight cannot be negative (%(weight)s).") % {"weight": _plain(weight)})
    elif weight > FULL_SCORE:
        _add(errors, f"{key}.weight", _("Weight cannot be more than 100 points."))
    cleaned["weight"] = weight

    for field in ("floor", "cap", "missing_value"):
        raw = data.get(field)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            cleaned[field] = None
            continue
        number = _number(raw)
        if number is None:
            _add(errors, f"{key}.{field}", _("%(value)r is not a number.") % {"value": raw})
        cleaned[field] = number

    normalisation = cleaned["normalisation"]
    floor, cap = cleaned["floor"], cleaned["cap"]
    if normalisation == Normalisation.LINEAR:
        if floor is None and f"{key}.floor" not in errors:
            _add(errors, f"{key}.floor", _("Linear normalisation needs a floor (the value that earns nothing)."))
        if cap is None and f"{key}.cap" not in errors:
            _add(errors, f"{key}.cap", _("Linear normalisation needs a cap (the value that earns full points)."))
        if floor is not None and cap is not None and cap <= floor:
            _add(
                errors,
                f"{key}.cap",
                _("The cap (%(cap)s) must be above the floor (%(floor)s).")
                % {"cap": _plain(cap), "floor": _plain(floor)},
            )
    cleaned["bands"] = _bands_clean(data.get("bands"), normalisation == Normalisation.BANDS, f"{key}.bands", errors)
    return cleaned


def _bands_clean(raw, required: bool, key: str, errors: Errors) -> list[list[Decimal]]:
    if raw in (None, "", [], ()):
        if required:
            _add(errors, key, _("Bands normalisation needs at least one band, e.g. [[1, 0.5], [3, 1.0]]."))
        return []
    if not isinstance(raw, list | tuple) or not all(isinstance(band, list | tuple) and len(band) == 2 for band in raw):
        _add(errors, key, _("Bands must be a list of [threshold, share] pairs, e.g. [[1, 0.5], [3, 1.0]]."))
        return []
    bands = []
    for position, (threshold_raw, share_raw) in enumerate(raw, start=1):
        threshold, share = _number(threshold_raw), _number(share_raw)
        if threshold is None or share is None:
            _add(errors, key, _("Band %(n)d: threshold and share must both be numbers.") % {"n": position})
            return []
        if not Decimal(0) <= share <= Decimal(1):
            _add(
                errors,
                key,
                _("Band %(n)d: the share of the weight must be between 0 and 1; it is %(share)s.")
                % {"n": position, "share": _plain(share)},
            )
        if bands and threshold <= bands[-1][0]:
            _add(
                errors,
                key,
                _("Band thresholds must be in ascending order: %(threshold)s comes after %(previous)s.")
                % {"threshold": _plain(threshold), "previous": _plain(bands[-1][0])},
            )
        bands.append([threshold, share])
    return bands


def _split_mismatch(category: str, total: Decimal, points: Decimal) -> str:
    """One whole sentence per category, so each reads naturally once translated."""
    if category == Category.QUANTITATIVE:
        message = _("Quantitative rules add up to %(total)s; this profile's split gives quantitative %(points)s.")
    else:
        message = _("Qualitative rules add up to %(total)s; this profile's split gives qualitative %(points)s.")
    return message % {"total": _plain(total), "points": _plain(points)}


def split_clean(split: Mapping) -> tuple[dict[str, Decimal | None], Errors]:
    """A profile's category split ({'quantitative': 60, 'qualitative': 40}) as Decimals.

    Each part lies in 0..100 and together they make the full 100 points; bonus rules are outside it."""
    errors: Errors = {}
    data = split if isinstance(split, Mapping) else {}
    cleaned: dict[str, Decimal | None] = {}
    for category in SCORED_CATEGORIES:
        field = SPLIT_FIELDS[category]
        points = _number(data.get(category))
        if points is None:
            _add(errors, field, _("The %(category)s points must be a number.") % {"category": _category_name(category)})
        elif not Decimal(0) <= points <= FULL_SCORE:
            _add(
                errors,
                field,
                _("The %(category)s points must be between 0 and 100; they are %(points)s.")
                % {"category": _category_name(category), "points": _plain(points)},
            )
        cleaned[category] = points
    if not errors:
        quantitative, qualitative = cleaned[Category.QUANTITATIVE], cleaned[Category.QUALITATIVE]
        if quantitative + qualitative != FULL_SCORE:
            _add(
                errors,
                "split",
                _(
                    "The split must add up to 100 points: quantitative %(quantitative)s + qualitative %(qualitative)s = %(total)s."
                )
                % {
                    "quantitative": _plain(quantitative),
                    "qualitative": _plain(qualitative),
                    "total": _plain(quantitative + qualitative),
                },
            )
    return cleaned, errors


def rules_clean(rules: Iterable, *, split: Mapping) -> tuple[list[dict], Errors]:
    """Every rule cleaned, plus the errors of single rules, of the split and of the set as a whole.

    The rules of each scored category must add up to that category's points in `split`: a
    profile keeps the balance between what customers buy and how they relate to us that it
    declares, whatever weights move inside a category."""
    errors: Errors = {}
    if isinstance(rules, str | bytes | dict) or not isinstance(rules, Iterable):
        return [], {"rules": [_("Rules must be a list.")]}
    cleaned = [rule_clean(rule, index, errors) for index, rule in enumerate(rules)]
    split_points, split_errors = split_clean(split)
    for key, messages in split_errors.items():
        errors.setdefault(key, []).extend(messages)
    if not cleaned:
        _add(errors, "rules", _("A scoring profile needs at least one rule."))
        return cleaned, errors

    seen: dict[str, int] = {}
    for index, rule in enumerate(cleaned):
        if rule["metric"] in seen:
            _add(
                errors,
                f"rules[{index}].metric",
                _("%(metric)s already has a rule in this profile; use each metric once.")
                % {"metric": metric_label(rule["metric"])},
            )
        seen.setdefault(rule["metric"], index)

    if split_errors:
        return cleaned, errors
    for category in SCORED_CATEGORIES:
        weights = [rule["weight"] for rule in cleaned if rule["category"] == category]
        if any(weight is None for weight in weights):
            continue  # already reported on the rule
        total = sum(weights, Decimal(0))
        if total != split_points[category]:
            _add(errors, "rules", _split_mismatch(category, total, split_points[category]))
    return cleaned, errors


def validate_profile_rules(rules: Iterable, *, split: Mapping) -> Errors:
    """Plain-words problems with a whole rule set and its split; empty when it can be saved."""
    return rules_clean(rules, split=split)[1]


def category_split(rules: Iterable) -> dict[str, Decimal]:
    """Points per category, e.g. {'quantitative': 60, 'qualitative': 40, 'bonus': 5}; unknown weights are skipped."""
    split = {category: Decimal(0) for category in CATEGORIES}
    for rule in rules:
        data = _as_dict(rule)
        weight = _number(data.get("weight"))
        if weight is not None and data.get("category") in split:
            split[data["category"]] += weight
    return split


def category_split_text(rules: Iterable) -> str:
    """'quantitative 60 / qualitative 40 / bonus 5' (bonus left out when it has no points)."""
    split = category_split(rules)
    parts = [
        f"{_category_name(category)} {_plain(points)}"
        for category, points in split.items()
        if category != Category.BONUS or points
    ]
    return " / ".join(parts)


def validate_tier_thresholds(tiers: Iterable) -> Errors:
    """The full set of tiers (dicts or TierSpecs with code, rank, min_score and optionally target_share).

    Thresholds must lie in 0..100 and fall strictly from the highest tier to the lowest, so every
    total maps to exactly one tier."""
    errors: Errors = {}
    rows = [_as_dict(tier) for tier in tiers]
    if not rows:
        return {"tiers": [_("At least one tier is needed.")]}
    parsed = []
    for row in rows:
        code = str(row.get("code") or "?")
        min_score = _number(row.get("min_score"))
        if min_score is None:
            _add(errors, f"{code}.min_score", _("The minimum score must be a number."))
        elif not Decimal(0) <= min_score <= FULL_SCORE:
            _add(errors, f"{code}.min_score", _("The minimum score must be between 0 and 100."))
        if "target_share" in row and row["target_share"] is not None:
            share = _number(row["target_share"])
            if share is None or not Decimal(0) <= share <= FULL_SCORE:
                _add(errors, f"{code}.target_share", _("The target share must be a percentage between 0 and 100."))
        parsed.append((row.get("rank") or 0, code, row.get("name") or code, min_score))
    if errors:
        return errors
    parsed.sort(key=lambda item: item[0])
    for (_rank, _code, higher_name, higher), (_rank2, code, lower_name, lower) in zip(parsed, parsed[1:], strict=False):
        if lower >= higher:
            _add(
                errors,
                "min_score",
                _(
                    "Thresholds must fall strictly from tier to tier: %(lower)s (%(lower_score)s) must be below "
                    "%(higher)s (%(higher_score)s)."
                )
                % {
                    "lower": lower_name,
                    "lower_score": _plain(lower),
                    "higher": higher_name,
                    "higher_score": _plain(higher),
                },
            )
            _add(
                errors,
                f"{code}.min_score",
                _("Must be below %(higher)s's %(score)s.") % {"higher": higher_name, "score": _plain(higher)},
            )
    return errors
