import datetime

from core.tests.clock import RUN_DAY
from tiering import services
from tiering.models import Notice
from tiering.tests.conftest import run_now


def test_a_customer_below_its_threshold_is_warned_with_points_needed_rule_by_rule(strong, weak, manager, tiers):
    run_now(RUN_DAY)  # strong: VIP (100 points); weak: dormant, whose threshold 0 nobody falls below
    created = services.downgrade_warnings_send_for_period(as_of=datetime.date(2027, 6, 17), period="2027-Q3")
    assert created == 1
    notice = Notice.objects.get(kind="downgrade_warning")
    assert notice.customer == strong and notice.recipient == manager
    # The expected figures from strong's known data and the seeded default profile, not from the
    # payload: in the 12 months to 2027-06-17 (after 2026-06-17) 8 of its fortnightly orders of
    # 25,000 remain (2026-09-25 back to 2026-06-19), and its one survey (2026-06-01) is too old.
    #   spend 200,000 of 500,000 x 30 = 12       orders 8 of 24 x 20 = 6.67      average 25,000 >= 2,000: 10
    #   tenure since 2020 >= 5 years: 15         no survey: missing 3 of 1..5 x 15 = 7.5      potential 10: 10
    # = 61.17 (unrounded 61.1666...), VIP's threshold 90, so 28.83 short, and Potential (60) by score.
    assert notice.payload == {
        "tier": "vip",
        "would_fall_to": "potential",
        "score": 61.17,
        "threshold": 90.0,
        "points_needed": 28.83,
        "rules": [  # the rules short of their maximum, the most points needed first
            {"metric": "spend_12m", "points": 12.0, "max_points": 30.0, "available": 18.0, "needed": 18.0},
            {"metric": "orders_12m", "points": 6.67, "max_points": 20.0, "available": 13.33, "needed": 13.33},
            {"metric": "satisfaction_12m", "points": 7.5, "max_points": 15.0, "available": 7.5, "needed": 7.5},
        ],
        "period": "2027-Q3",
    }
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
