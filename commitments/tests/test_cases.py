"""Cases keep the clock of the tier the customer had when they opened, and the sweep tells people once."""

import datetime
import zoneinfo

import pytest
import time_machine

from commitments.models import Case, ServiceLevel
from commitments.services import cases as case_services
from commitments.services.sla import sla_sweep
from core.exceptions import ConflictError, DomainError
from crm.models import Interaction, SatisfactionSurvey
from crm.services import interactions_record
from crm.tests.factories import CustomerFactory, InteractionFactory
from tiering.models import Notice
from tiering.tests.factories import tier

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(*parts) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=SHANGHAI)


@pytest.fixture
def vip_customer(manager):
    return CustomerFactory(account_manager=manager, tier=tier("vip"))


@pytest.fixture
def core_customer(manager):
    return CustomerFactory(account_manager=manager, tier=tier("core"))


def open_case(customer, user, moment, **fields):
    fields.setdefault("kind", Case.Kind.REQUEST)
    fields.setdefault("subject", "Machine stopped")
    with time_machine.travel(moment, tick=False):
        return case_services.case_open(customer=customer.code, user=user, **fields)


def test_a_vip_case_opened_on_a_public_holiday_night_breaches_fifteen_minutes_later(vip_customer, manager):
    case = open_case(vip_customer, manager, at(2026, 10, 1, 23, 50))  # National Day, 24x7 clock
    assert case.clock == ServiceLevel.Clock.ALWAYS
    assert case.response_minutes == 15
    assert case.first_response_due_at == at(2026, 10, 2, 0, 5)
    assert case.reminder_at == at(2026, 10, 2, 0, 2)


def test_a_core_case_opened_friday_evening_is_due_monday_morning(core_customer, manager):
    case = open_case(core_customer, manager, at(2026, 11, 27, 17, 30))
    assert case.clock == ServiceLevel.Clock.BUSINESS
    assert case.first_response_due_at == at(2026, 11, 30, 10, 30)


def test_the_clock_is_the_tier_at_opening_and_a_later_tier_change_does_not_move_it(core_customer, manager):
    case = open_case(core_customer, manager, at(2026, 11, 27, 17, 30))
    core_customer.tier = tier("vip")
    core_customer.save()
    case.refresh_from_db()
    assert case.tier == tier("core")
    assert case.first_response_due_at == at(2026, 11, 30, 10, 30)


def test_reminder_and_breach_each_arrive_once_across_two_sweeps(vip_customer, manager, admin_user):
    case = open_case(vip_customer, manager, at(2026, 10, 1, 23, 50))
    assert sla_sweep(now=at(2026, 10, 2, 0, 1)).reminded == 0
    for _sweep in range(2):
        sla_sweep(now=at(2026, 10, 2, 0, 3))
    reminders = Notice.objects.filter(kind=Notice.Kind.CASE_REMINDER, customer=vip_customer)
    assert [(n.recipient, n.payload["case"]) for n in reminders] == [(manager, case.pk)]
    for _sweep in range(2):
        sla_sweep(now=at(2026, 10, 2, 0, 6))
    breaches = Notice.objects.filter(kind=Notice.Kind.CASE_BREACH, customer=vip_customer)
    assert sorted(n.recipient.username for n in breaches) == ["admin", "manager"]
    case.refresh_from_db()
    assert case.breached_at == at(2026, 10, 2, 0, 6)


def test_an_answered_case_neither_reminds_nor_breaches(vip_customer, manager):
    case = open_case(vip_customer, manager, at(2026, 10, 1, 23, 50))
    with time_machine.travel(at(2026, 10, 1, 23, 55), tick=False):
        case_services.case_respond(case=case, user=manager, body="On our way")
    sla_sweep(now=at(2026, 10, 2, 1, 0))
    assert not Notice.objects.filter(kind__in=[Notice.Kind.CASE_REMINDER, Notice.Kind.CASE_BREACH]).exists()
    case.refresh_from_db()
    assert case.status == Case.Status.IN_PROGRESS
    assert case.met_first_response is True


def test_an_activity_logged_by_staff_after_opening_is_the_first_response(
    vip_customer, manager, django_capture_on_commit_callbacks
):
    case = open_case(vip_customer, manager, at(2026, 11, 20, 10, 0))
    with time_machine.travel(at(2026, 11, 20, 10, 7), tick=False), django_capture_on_commit_callbacks(execute=True):
        interactions_record(
            rows=[{"customer": vip_customer, "kind": "call", "occurred_at": "2026-11-20T10:07:00+08:00"}],
            recorded_by=manager,
        )
    case.refresh_from_db()
    assert case.first_response_at == at(2026, 11, 20, 10, 7)
    assert case.met_first_response is True


def test_a_complaint_case_is_one_complaint_for_the_early_warning(vip_customer, manager):
    case = open_case(vip_customer, manager, at(2026, 11, 20, 10, 0), kind=Case.Kind.COMPLAINT)
    complaints = Interaction.objects.filter(customer=vip_customer, kind=Interaction.Kind.COMPLAINT)
    assert list(complaints) == [case.activity]
    # A complaint logged first and then opened as a case is not recorded again.
    logged = InteractionFactory(customer=vip_customer, kind=Interaction.Kind.COMPLAINT)
    open_case(vip_customer, manager, at(2026, 11, 20, 11, 0), kind=Case.Kind.COMPLAINT, activity=logged)
    assert complaints.all().count() == 2
    with pytest.raises(DomainError) as error:
        open_case(vip_customer, manager, at(2026, 11, 20, 12, 0), kind=Case.Kind.COMPLAINT, activity=logged)
    assert "activity" in error.value.fields


def test_closing_needs_a_resolution_and_the_grade_becomes_a_survey(vip_customer, manager):
    case = open_case(vip_customer, manager, at(2026, 11, 20, 10, 0))
    with pytest.raises(DomainError) as error:
        case_services.case_transition(case=case, status=Case.Status.RESOLVED, user=manager)
    assert "resolution" in error.value.fields
    case_services.case_transition(case=case, status=Case.Status.RESOLVED, user=manager, resolution="Part replaced")
    with time_machine.travel(at(2026, 11, 21, 9, 0), tick=False):
        case = case_services.case_transition(case=case, status=Case.Status.CLOSED, user=manager, satisfaction="A")
    survey = SatisfactionSurvey.objects.get(customer=vip_customer)
    assert (survey.score, survey.channel, survey.surveyed_at) == (5, "case", datetime.date(2026, 11, 21))
    assert case.survey == survey
    with pytest.raises(ConflictError):
        case_services.case_transition(case=case, status=Case.Status.IN_PROGRESS, user=manager)


def test_an_outsiders_customer_is_refused_naming_the_customer(vip_customer, outsider):
    with pytest.raises(DomainError) as error:
        open_case(vip_customer, outsider, at(2026, 11, 20, 10, 0))
    assert list(error.value.fields) == ["customer"]
    assert not Case.objects.exists()


def test_bad_fields_are_named_and_nothing_is_stored(vip_customer, manager):
    with pytest.raises(DomainError) as error:
        open_case(vip_customer, manager, at(2026, 11, 20, 10, 0), kind="praise", severity=9, subject=" ")
    assert set(error.value.fields) == {"kind", "severity", "subject"}
    assert not Case.objects.exists()


def test_a_complaint_logged_later_is_not_a_first_response(vip_customer, manager, django_capture_on_commit_callbacks):
    case = open_case(vip_customer, manager, at(2026, 11, 20, 10, 0))
    with time_machine.travel(at(2026, 11, 20, 10, 5), tick=False), django_capture_on_commit_callbacks(execute=True):
        interactions_record(
            rows=[{"customer": vip_customer, "kind": "complaint", "occurred_at": "2026-11-20T10:05:00+08:00"}],
            recorded_by=manager,
        )
    case.refresh_from_db()
    assert case.first_response_at is None
