"""The demo's cases (seed_demo, after the tier runs): open ones near their deadline, one breached,
closed ones with grades; written through the services, and not twice."""

import datetime
import zoneinfo

import pytest
import time_machine

from commitments.models import Case
from crm.models import SatisfactionSurvey
from crm.tests.factories import CustomerFactory, UserFactory
from tiering.models import Notice
from web.demo_cases import cases_seed

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))  # a Monday morning


@time_machine.travel(NOW, tick=False)
def test_the_demo_opens_cases_near_their_deadline_one_breached_and_closed_ones_with_grades(manager, book):
    assert cases_seed([manager, None], NOW) == 6
    cases = Case.objects.filter(owner=manager)
    running = cases.filter(status=Case.Status.OPEN, breached_at__isnull=True)
    assert running.count() == 2
    assert all(NOW < case.first_response_due_at <= NOW + datetime.timedelta(hours=2) for case in running)
    vip = running.get(customer=book["vip"])
    assert (vip.clock, vip.first_response_due_at) == ("24x7", NOW + datetime.timedelta(minutes=4))
    breached = cases.get(breached_at__isnull=False)
    assert breached.first_response_at is None and breached.is_open
    assert Notice.objects.filter(kind=Notice.Kind.CASE_BREACH, recipient=manager).count() == 1
    closed = cases.filter(status=Case.Status.CLOSED).order_by("satisfaction")
    assert [case.satisfaction for case in closed] == ["A", "B", "D"]
    assert all(case.met_first_response for case in closed)
    assert SatisfactionSurvey.objects.filter(channel="case").count() == 3


@time_machine.travel(NOW, tick=False)
def test_the_demo_adds_no_case_twice_and_none_before_the_runs(manager, book):
    assert cases_seed([manager], NOW) == 6
    assert cases_seed([manager], NOW) == 0
    newcomer = UserFactory(username="newcomer")
    CustomerFactory(account_manager=newcomer)  # not tiered yet: no run has happened
    assert cases_seed([newcomer], NOW) == 0
