import datetime

from core.tests.clock import RUN_DAY
from tiering import services
from tiering.models import Notice
from tiering.tests.conftest import run_now


def test_a_customer_below_its_threshold_is_warned_with_points_needed_rule_by_rule(strong, weak, manager, tiers):
    run_now(RUN_DAY)
    created = services.downgrade_warnings_send_for_period(as_of=datetime.date(2027, 6, 17), period="2027-Q3")
    assert created == 1
    notice = Notice.objects.get(kind="downgrade_warning")
    assert notice.customer == strong and notice.recipient == manager
    payload = notice.payload
    assert payload["tier"] == "vip" and payload["would_fall_to"] != "vip"
    assert payload["points_needed"] == round(payload["threshold"] - payload["score"], 2) > 0
    assert payload["rules"][0]["needed"] > 0
    assert sum(rule["available"] for rule in payload["rules"]) >= payload["points_needed"]
    # Once per period.
    assert services.downgrade_warnings_send_for_period(as_of=datetime.date(2027, 6, 17), period="2027-Q3") == 0


def test_warnings_go_out_only_the_configured_days_before_a_quarterly_run(strong, tiering_settings):
    run_now(RUN_DAY)
    assert services.downgrade_warnings_send_if_due(today=datetime.date(2027, 6, 16)) == 0
    assert services.downgrade_warnings_send_if_due(today=datetime.date(2027, 6, 17)) == 1  # 14 days before 1 July
    tiering_settings.warning_days_before = 7
    tiering_settings.save()
    Notice.objects.all().delete()
    assert services.downgrade_warnings_send_if_due(today=datetime.date(2027, 6, 17)) == 0
    assert services.downgrade_warnings_send_if_due(today=datetime.date(2027, 6, 24)) == 1
