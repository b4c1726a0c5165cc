"""Manual tier overrides: a reason is required, the override wins until it expires, every change is audited."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.clock import local_today
from core.exceptions import DomainError
from crm.models import Customer
from scoring.models import Tier
from tiering.models import TierChange, TierOverride
from tiering.services.notices import notice_build, notices_deliver_on_commit
from tiering.signals import tiers_changed_send_on_commit


def user_may_override(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.has_perm("tiering.add_tieroverride")))


def _tier_resolve(tier) -> Tier:
    if isinstance(tier, Tier):
        return tier
    found = Tier.objects.filter(code=str(tier or "").strip()).first() if tier else None
    if found is None:
        raise DomainError(
            _("Invalid override."), fields={"tier": [_("Unknown tier %(code)r.") % {"code": str(tier or "")}]}
        )
    return found


def _tier_apply(*, customer: Customer, tier: Tier | None, reason: str, user) -> None:
    """Point the customer's effective tier at `tier`, recording the change like a run would."""
    previous_id = Customer.objects.filter(pk=customer.pk).values_list("tier_id", flat=True).first()
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(tier=tier, updated_at=now)
    customer.tier = tier
    tiers_changed_send_on_commit(customer_ids=[customer.pk])
    if tier is None or previous_id is None or previous_id == tier.pk:
        return
    previous = Tier.objects.get(pk=previous_id)
    direction = TierChange.Direction.UPGRADE if tier.rank < previous.rank else TierChange.Direction.DOWNGRADE
    score = customer.score if customer.score is not None else 0
    change = TierChange.objects.create(
        run=None,
        customer=customer,
        from_tier=previous,
        to_tier=tier,
        direction=direction,
        score_before=customer.score,
        score=score,
        reasons=[{"override": reason, "by": getattr(user, "pk", None)}],
    )
    notice, delivery = notice_build(
        kind=direction,
        customer_id=customer.pk,
        customer_code=customer.code,
        recipient_id=customer.account_manager_id,
        payload={"from": previous.code, "to": tier.code, "score": float(score), "override": True, "reason": reason},
        change=change,
    )
    notice.save()
    notices_deliver_on_commit([delivery])


def override_check(*, tier, reason, expires_on) -> tuple[Tier | None, str, dict]:
    """Validate an override's fields; returns (tier, cleaned reason, errors per field)."""
    errors = {}
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        errors["reason"] = [_("A reason is required for a manual tier.")]
    if expires_on is not None and (
        not isinstance(expires_on, datetime.date) or isinstance(expires_on, datetime.datetime)
    ):
        errors["expires_on"] = [_("A date (YYYY-MM-DD) is required.")]
    elif expires_on is not None and expires_on <= local_today():
        errors["expires_on"] = [_("The expiry date must be in the future.")]
    try:
        tier = _tier_resolve(tier)
    except DomainError as exc:
        tier = None
        errors.update(exc.fields)
    return tier, reason, errors


@transaction.atomic
def override_set(
    *,
    customer: Customer,
    tier,
    reason: str,
    expires_on: datetime.date | None = None,
    set_by,
    change_reason: str | None = None,
) -> TierOverride:
    """Fix a customer's tier by hand; the computed score and tier keep being recorded by runs.

    The history keeps `change_reason` as why the override changed, by default the override's
    own `reason` (setting a manual tier: the two are the same sentence)."""
    if not user_may_override(set_by):
        raise PermissionDenied(_("You may not override tiers."))
    customer.refresh_from_db(fields=["tier", "computed_tier", "score", "account_manager"])
    tier, reason, errors = override_check(tier=tier, reason=reason, expires_on=expires_on)
    if errors:
        raise DomainError(_("Invalid override."), fields=errors)
    override = TierOverride.objects.select_for_update().filter(customer=customer).first() or TierOverride(
        customer=customer
    )
    override.tier = tier
    override.reason = reason
    override.expires_on = expires_on
    override.created_by = set_by
    override._history_user = set_by
    override._change_reason = (change_reason or "").strip() or reason  # the history says why, beside who and when
    override.save()
    _tier_apply(customer=customer, tier=tier, reason=reason, user=set_by)
    return override


@transaction.atomic
def override_remove(*, customer: Customer, removed_by, reason: str = "") -> None:
    """Drop the override; the computed tier of the last run takes effect at once. `reason` goes
    into the override's history (default: "Manual tier removed")."""
    if not user_may_override(removed_by):
        raise PermissionDenied(_("You may not override tiers."))
    customer.refresh_from_db(fields=["tier", "computed_tier", "score", "account_manager"])
    override = TierOverride.objects.filter(customer=customer).first()
    if override is None:
        raise DomainError(
            _("This customer has no manual tier."), code="not_found", fields={"tier": [_("No override.")]}
        )
    reason = (reason or "").strip() or str(_("Manual tier removed"))
    override._history_user = removed_by
    override._change_reason = reason
    override.delete()
    computed = Tier.objects.filter(pk=customer.computed_tier_id).first()
    _tier_apply(customer=customer, tier=computed, reason=reason, user=removed_by)


def overrides_expire(*, today: datetime.date) -> int:
    """Remove overrides whose expiry has come; their customers fall back to the computed tier."""
    expired = list(TierOverride.objects.filter(expires_on__lte=today).select_related("customer"))
    for override in expired:  # few rows a day; each keeps its audit trail
        with transaction.atomic():
            customer = override.customer
            override._change_reason = str(_("Manual tier expired"))
            override.delete()
            computed = Tier.objects.filter(pk=customer.computed_tier_id).first()
            _tier_apply(customer=customer, tier=computed, reason=str(_("Manual tier expired")), user=None)
    return len(expired)
