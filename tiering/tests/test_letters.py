import datetime

import pytest

from core.exceptions import DomainError
from core.tests.clock import RUN_DAY
from tiering import letters
from tiering.tests.conftest import run_now

LATER = datetime.date(2027, 7, 1)


def test_the_letter_explains_the_downgrade_and_points_to_return(strong, tiers):
    run_now(RUN_DAY)
    run_now(LATER)
    letter = letters.downgrade_letter(strong)
    assert letter.from_tier == tiers["vip"] and letter.to_tier.rank > tiers["vip"].rank
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
