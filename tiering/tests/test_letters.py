import datetime

import pytest
import time_machine
from django.test import override_settings

from core.exceptions import DomainError
from core.tests.clock import RUN_DAY
from tiering import letters
from tiering.tests.conftest import run_now
from tiering.tests.factories import TierAssignmentFactory, TierChangeFactory, TierRunFactory

LATER = datetime.date(2027, 7, 1)


def test_the_letter_explains_the_downgrade_and_points_to_return(strong, tiers):
    run_now(RUN_DAY)
    run_now(LATER)
    letter = letters.downgrade_letter(strong)
    assert letter.from_tier.code == "vip" and letter.to_tier.rank > tiers["vip"].rank
    assert letter.rules_frozen
    assert letter.points_to_return == round(90 - letter.score, 2)
    lost = {factor.metric for factor in letter.lost_factors}
    assert "spend_12m" in lost and "orders_12m" in lost
    assert sum(f.needed for f in letter.factors) >= letter.points_to_return
    assert letter.period == "2027-Q3"


def test_the_letter_is_in_the_customers_language(strong):
    run_now(RUN_DAY)
    run_now(LATER)
    html = letters.downgrade_letter_html(strong)
    assert 'lang="zh-hans"' in html and "VIP客户" in html and strong.name in html
    strong.language = "en"
    strong.save()
    html = letters.downgrade_letter_html(strong)
    assert 'lang="en"' in html and "VIP" in html and "VIP客户" not in html
    assert "12-month spend" in html


def test_no_downgrade_no_letter(strong):
    run_now(RUN_DAY)
    with pytest.raises(DomainError):
        letters.downgrade_letter(strong)


@override_settings(TIME_ZONE="Asia/Shanghai")
def test_the_letter_is_dated_in_the_business_time_zone(strong, tiers):
    with time_machine.travel(datetime.datetime(2026, 11, 29, 17, tzinfo=datetime.UTC)):
        TierChangeFactory(run=None, customer=strong, from_tier=tiers["vip"], to_tier=tiers["core"])
    letter = letters.downgrade_letter(strong)
    assert letter.dated == datetime.date(2026, 11, 30)  # 01:00 on 30 November in Shanghai
    assert "2026-11-30" in letters.downgrade_letter_html(strong)


def test_the_letter_explains_the_downgrade_of_the_latest_as_of_date(strong, tiers):
    later = TierRunFactory(period="2026-Q3", as_of=datetime.date(2026, 9, 30))
    earlier = TierRunFactory(period="2026-Q2", as_of=datetime.date(2026, 6, 30))  # started after it
    for run in (later, earlier):
        TierAssignmentFactory(run=run, customer=strong)
        TierChangeFactory(run=run, customer=strong, from_tier=tiers["vip"], to_tier=tiers["core"])
    assert letters.downgrade_letter(strong).period == "2026-Q3"
