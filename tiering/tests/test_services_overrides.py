import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from core.tests.clock import RUN_DAY
from tiering import services
from tiering.models import Notice, TierChange, TierOverride
from tiering.tests.conftest import run_now

TODAY = datetime.datetime(2026, 10, 10, 12, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def test_an_override_changes_the_tier_at_once_and_is_audited(strong, tiers, admin_user, manager):
    run_now(RUN_DAY)
    override = services.override_set(
        customer=strong, tier="core", reason="Chairs the regional business association", set_by=admin_user
    )
    strong.refresh_from_db()
    assert strong.tier == tiers["core"] and strong.computed_tier == tiers["vip"]
    assert override.history.get().history_user == admin_user
    change = TierChange.objects.get(customer=strong)
    assert change.run is None and change.direction == "downgrade" and change.reasons[0]["override"]
    assert Notice.objects.get(change=change).recipient == manager


@pytest.mark.parametrize(
    ("tier", "reason", "expires_on", "field"),
    [
        ("core", "  ", None, "reason"),
        ("core", "ok", datetime.date(2026, 10, 10), "expires_on"),
        ("core", "ok", "2027-01-01", "expires_on"),
        ("gold", "ok", None, "tier"),
    ],
)
def test_bad_overrides_name_the_field_and_change_nothing(strong, admin_user, tier, reason, expires_on, field):
    with pytest.raises(DomainError) as error:
        services.override_set(customer=strong, tier=tier, reason=reason, expires_on=expires_on, set_by=admin_user)
    assert field in error.value.fields
    assert not TierOverride.objects.exists()
    strong.refresh_from_db()
    assert strong.tier is None


def test_a_manager_without_the_permission_may_not_override(strong, outsider):
    with pytest.raises(PermissionDenied):
        services.override_set(customer=strong, tier="core", reason="because", set_by=outsider)
    assert not TierOverride.objects.exists()


def test_removing_an_override_restores_the_computed_tier(strong, tiers, admin_user):
    run_now(RUN_DAY)
    services.override_set(customer=strong, tier="potential", reason="Trial", set_by=admin_user)
    services.override_remove(customer=strong, removed_by=admin_user)
    strong.refresh_from_db()
    assert strong.tier == tiers["vip"]
    assert not TierOverride.objects.exists()
    assert TierOverride.history.filter(history_type="-").get().history_user == admin_user
    with pytest.raises(DomainError):
        services.override_remove(customer=strong, removed_by=admin_user)


def test_expired_overrides_fall_back_to_the_computed_tier(strong, tiers, admin_user):
    run_now(RUN_DAY)
    services.override_set(
        customer=strong, tier="potential", reason="Trial", expires_on=datetime.date(2026, 10, 20), set_by=admin_user
    )
    assert services.overrides_expire(today=datetime.date(2026, 10, 19)) == 0
    assert services.overrides_expire(today=datetime.date(2026, 10, 20)) == 1
    strong.refresh_from_db()
    assert strong.tier == tiers["vip"]


def test_every_change_of_an_override_keeps_its_reason(strong, admin_user):
    run_now(RUN_DAY)
    services.override_set(customer=strong, tier="core", reason="Trial", set_by=admin_user)
    services.override_set(
        customer=strong, tier="vip", reason="Trial", set_by=admin_user, change_reason="Trial went well"
    )
    services.override_remove(customer=strong, removed_by=admin_user, reason="  ")
    services.override_set(
        customer=strong, tier="core", reason="Trial", expires_on=datetime.date(2026, 10, 20), set_by=admin_user
    )
    services.overrides_expire(today=datetime.date(2026, 10, 20))
    reasons = [r.history_change_reason for r in TierOverride.history.order_by("history_id")]
    assert reasons[:3] == ["Trial", "Trial went well", str(_("Manual tier removed"))]
    assert reasons[3:] == ["Trial", str(_("Manual tier expired"))]
