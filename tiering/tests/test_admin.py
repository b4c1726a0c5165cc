import datetime

import pytest
import time_machine
from django.urls import reverse

from core.tests.clock import RUN_DAY
from tiering.models import Notice, TierOverride, TierRun
from tiering.tests.conftest import run_now

LATER = datetime.date(2027, 7, 1)


@pytest.fixture
def history(strong, weak):
    run_now(RUN_DAY)
    return run_now(LATER)


@pytest.mark.parametrize(
    "model", ["tierrun", "tierassignment", "tierchange", "notice", "tieroverride", "tieringsettings"]
)
def test_admin_pages_open(client, admin_user, history, model):
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:tiering_{model}_changelist")).status_code == 200


def test_run_page_shows_progress(client, admin_user, history):
    client.force_login(admin_user)
    page = client.get(reverse("admin:tiering_tierrun_changelist")).content.decode()
    assert "2/2 (100%)" in page
    assert client.get(reverse("admin:tiering_tierrun_change", args=[history.pk])).status_code == 200


def test_acknowledge_action_goes_through_the_service(client, admin_user, history):
    client.force_login(admin_user)
    notice = Notice.objects.get()
    client.post(reverse("admin:tiering_notice_changelist"), {"action": "acknowledge", "_selected_action": [notice.pk]})
    notice.refresh_from_db()
    assert notice.acknowledged_by == admin_user


def test_override_form_requires_a_reason_and_saves_through_the_service(client, admin_user, strong, tiers):
    client.force_login(admin_user)
    url = reverse("admin:tiering_tieroverride_add")
    with time_machine.travel(datetime.datetime(2026, 10, 10, 4, tzinfo=datetime.UTC)):
        response = client.post(url, {"customer": strong.pk, "tier": tiers["core"].pk, "reason": " ", "expires_on": ""})
        assert response.status_code == 200 and not TierOverride.objects.exists()
        client.post(url, {"customer": strong.pk, "tier": tiers["core"].pk, "reason": "Referrals", "expires_on": ""})
    strong.refresh_from_db()
    assert strong.tier == tiers["core"]
    assert TierOverride.objects.get().created_by == admin_user


def test_settings_cannot_be_added_twice_or_deleted(client, admin_user, tiering_settings):
    client.force_login(admin_user)
    assert client.get(reverse("admin:tiering_tieringsettings_add")).status_code == 403
    assert TierRun.objects.count() == 0
