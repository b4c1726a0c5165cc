"""Admin of service commitments: calendars refuse a calendar without working time on the field,
China's holidays are seeded by year, cases go through the services and stay within visibility."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils.functional import Promise

from commitments.models import (
    BusinessCalendar,
    CalendarDay,
    Case,
    CaseReply,
    Playbook,
    PlaybookStep,
    ServiceLevel,
)
from commitments.services import cases as case_services
from crm.models import Interaction
from crm.tests.factories import CustomerFactory, UserFactory
from tiering.tests.factories import tier

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
OPENED = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def calendar_form(**fields):
    form = {
        "name": "Shenzhen office",
        "time_zone": "Asia/Shanghai",
        "work_start": "09:00",
        "work_end": "18:00",
        "weekdays": "12345",
        "days-TOTAL_FORMS": "0",
        "days-INITIAL_FORMS": "0",
    }
    return {**form, **fields}


@pytest.mark.parametrize("model", ["businesscalendar", "servicelevel", "playbook", "case"])
def test_the_pages_open(admin_client, model):
    assert admin_client.get(reverse(f"admin:commitments_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:commitments_{model}_add")).status_code == 200


def test_every_label_the_admin_shows_is_translatable():
    for model in (BusinessCalendar, CalendarDay, ServiceLevel, Case, CaseReply, Playbook, PlaybookStep):
        labels = [model._meta.verbose_name, model._meta.verbose_name_plural]
        labels += [field.verbose_name for field in model._meta.concrete_fields if not field.primary_key]
        assert [str(label) for label in labels if not isinstance(label, Promise)] == [], model.__name__


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"work_end": "09:00"}, "work_end", "must end after they start"),
        ({"work_start": "18:00", "work_end": "08:00"}, "work_end", "must end after they start"),
        ({"weekdays": "890"}, "weekdays", "at least one working weekday"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Unknown time zone"),
    ],
)
def test_a_calendar_without_working_time_is_refused_on_the_field(admin_client, fields, field, words):
    response = admin_client.post(
        reverse("admin:commitments_businesscalendar_add"), calendar_form(**fields), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field] and words in errors[field][0]
    assert not BusinessCalendar.objects.filter(name="Shenzhen office").exists()


def test_holidays_and_make_up_days_are_edited_inline(admin_client):
    form = calendar_form(
        **{
            "days-TOTAL_FORMS": "2",
            "days-0-date": "2026-12-24",
            "days-0-kind": "holiday",
            "days-0-name": "Company day",
            "days-1-date": "2026-12-27",
            "days-1-kind": "workday",
        }
    )
    response = admin_client.post(reverse("admin:commitments_businesscalendar_add"), form)
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(name="Shenzhen office")
    assert list(calendar.days.values_list("date", "kind")) == [
        (datetime.date(2026, 12, 24), "holiday"),
        (datetime.date(2026, 12, 27), "workday"),
    ]


def test_the_seed_action_adds_chinas_holidays_of_the_year_given_once(admin_client):
    calendar = BusinessCalendar.objects.create(name="Empty")
    url = reverse("admin:commitments_businesscalendar_changelist")
    form = {"action": "seed_china", "_selected_action": [calendar.pk], "year": "2026"}
    admin_client.post(url, form)
    days = dict(calendar.days.values_list("date", "kind"))
    assert days[datetime.date(2026, 10, 1)] == "holiday"  # National Day
    assert days[datetime.date(2026, 10, 10)] == "workday"  # a Saturday worked to lengthen it
    assert {day.year for day in days} == {2026}
    admin_client.post(url, form)  # again: nothing twice
    assert calendar.days.count() == len(days)
    response = admin_client.post(url, {**form, "year": ""}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "Give the year whose holidays to add" in response.content.decode()
    assert calendar.days.count() == len(days)


def test_a_business_hours_service_level_needs_a_calendar(admin_client):
    level = ServiceLevel.objects.get(tier=tier("core"))
    url = reverse("admin:commitments_servicelevel_change", args=[level.pk])
    response = admin_client.post(
        url, {"tier": level.tier_id, "clock": "business", "calendar": "", "response_minutes": ""}
    )
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["calendar"]


def test_a_playbook_is_edited_with_its_steps(admin_client):
    form = {
        "name": "Core welcome",
        "tier": tier("core").pk,
        "event": "upgraded_into",
        "active": "on",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-0-position": "1",
        "steps-0-goal": "Keep the new core customer",
        "steps-0-action": "Welcome call",
        "steps-0-owner_role": "account_manager",
        "steps-0-due_days": "7",
        "steps-0-contact_kind": "call",
        "steps-0-kpi": "Retention",
    }
    response = admin_client.post(reverse("admin:commitments_playbook_add"), form)
    assert response.status_code == 302
    step = PlaybookStep.objects.get(playbook__name="Core welcome")
    assert (step.action, step.contact_kind, step.due_days) == ("Welcome call", "call", 7)


@pytest.fixture
def staff_manager(manager):
    """The account manager, also staff with the role's rights on cases (the admin is a real tool for them too)."""
    manager.is_staff = True
    manager.save()
    manager.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="commitments", codename="view_case")
    )
    assert Group.objects.get(name="Account managers") in manager.groups.all()
    return manager


def test_a_case_opened_in_admin_gets_its_clock_and_its_complaint(client, staff_manager):
    customer = CustomerFactory(account_manager=staff_manager, tier=tier("vip"))
    client.force_login(staff_manager)
    form = {"customer": customer.pk, "kind": "complaint", "severity": "3", "channel": "phone", "subject": "Late again"}
    with time_machine.travel(OPENED, tick=False):
        response = client.post(reverse("admin:commitments_case_add"), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    case = Case.objects.get()
    assert (case.owner, case.clock, case.first_response_due_at) == (
        staff_manager,
        "24x7",
        OPENED + datetime.timedelta(minutes=15),
    )
    assert Interaction.objects.filter(customer=customer, kind="complaint").get() == case.activity


def test_a_reply_and_a_status_go_through_the_services_and_their_errors_name_the_field(client, staff_manager):
    customer = CustomerFactory(account_manager=staff_manager, tier=tier("vip"))
    with time_machine.travel(OPENED, tick=False):
        case = case_services.case_open(customer=customer.code, kind="request", subject="Stopped", user=staff_manager)
    client.force_login(staff_manager)
    url = reverse("admin:commitments_case_change", args=[case.pk])
    base = {
        "status": "open",
        "resolution": "",
        "satisfaction": "",
        "reply": "",
        "replies-TOTAL_FORMS": "0",
        "replies-INITIAL_FORMS": "0",
    }
    refused = client.post(url, {**base, "status": "resolved"})
    assert refused.status_code == 200 and list(refused.context["adminform"].form.errors) == ["resolution"]
    with time_machine.travel(OPENED + datetime.timedelta(minutes=5), tick=False):
        answered = client.post(url, {**base, "reply": "On our way"})
    assert answered.status_code == 302
    case.refresh_from_db()
    assert case.status == "in_progress" and case.first_response_seconds == 300
    assert list(case.replies.values_list("body", flat=True)) == ["On our way"]
    closed = client.post(url, {**base, "status": "resolved", "resolution": "Part replaced"})
    assert closed.status_code == 302
    assert Case.objects.get(pk=case.pk).status == "resolved"


def test_staff_see_only_the_cases_of_their_customers(client, staff_manager, outsider):
    mine = CustomerFactory(account_manager=staff_manager, tier=tier("core"))
    theirs = CustomerFactory(account_manager=outsider, tier=tier("core"))
    with time_machine.travel(OPENED, tick=False):
        own = case_services.case_open(customer=mine.code, kind="request", subject="Mine", user=staff_manager)
        other = case_services.case_open(customer=theirs.code, kind="request", subject="Theirs", user=outsider)
    client.force_login(staff_manager)
    listing = client.get(reverse("admin:commitments_case_changelist"))
    assert [c.pk for c in listing.context["cl"].result_list] == [own.pk]
    assert client.get(reverse("admin:commitments_case_change", args=[other.pk])).status_code == 302  # "doesn't exist"
    for params in ("?breached=yes", "?status__exact=open", f"?tier__id__exact={tier('core').pk}"):
        assert client.get(reverse("admin:commitments_case_changelist") + params).status_code == 200


def test_a_user_without_staff_status_has_no_admin(client):
    user = UserFactory(username="visitor")
    client.force_login(user)
    assert client.get(reverse("admin:commitments_case_changelist")).status_code == 302
