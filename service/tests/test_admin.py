"""Admin of the service side: contact plans beside the tiers, tasks saved through the task services,
read-only contact statuses and letters sent; everyone sees only the rows of the customers they see."""

import datetime

import pytest
from django.urls import reverse

from crm.models import Interaction
from crm.tests.factories import CustomerFactory, InteractionFactory
from service.models import ContactPlan, ContactStatus, LetterDispatch, Task
from service.services.contact import contact_status_refresh
from service.tests.factories import NOW, TODAY, TaskFactory
from tiering.tests.factories import TierChangeFactory, tier

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@pytest.fixture
def staff_manager(manager):
    """The account manager with the admin open to them."""
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    return manager


def form_errors(response) -> dict:
    assert response.status_code == 200, response.status_code
    return response.context["adminform"].form.errors


# --- contact plans --------------------------------------------------------------------------------


def test_each_tier_shows_its_contact_plan_with_a_link_to_edit_it(admin_client):
    vip = ContactPlan.objects.get(tier__code="vip")
    edit = reverse("admin:service_contactplan_change", args=[vip.pk])

    listing = admin_client.get(reverse("admin:scoring_tier_changelist"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    page = admin_client.get(
        reverse("admin:scoring_tier_change", args=[vip.tier_id]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert edit in listing and "Every 7 days" in listing
    assert "One win-back contact within 30 days" in listing
    assert edit in page and "Visit, Call, Meeting, Email" in page


def test_a_tier_viewer_sees_the_plan_without_a_link(client, outsider):
    outsider.is_staff = True  # account managers may view tiers in admin, not plans
    outsider.save()
    client.force_login(outsider)
    vip = ContactPlan.objects.get(tier__code="vip")
    page = client.get(reverse("admin:scoring_tier_change", args=[vip.tier_id]), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Every 7 days" in page.content.decode()
    assert reverse("admin:service_contactplan_change", args=[vip.pk]) not in page.content.decode()


def test_a_plan_is_edited_with_checkboxes_and_saving_recomputes_the_statuses(
    admin_client, clock, manager, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(account_manager=manager, tier=tier("vip"))
    InteractionFactory(customer=customer, kind="call", occurred_at=TODAY - 2 * DAY)
    contact_status_refresh(None)
    plan = ContactPlan.objects.get(tier__code="vip")
    url = reverse("admin:service_contactplan_change", args=[plan.pk])

    page = admin_client.get(url).content.decode()
    for kind in Interaction.Kind.values:
        assert f'type="checkbox" name="contact_kinds" value="{kind}"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"every_days": "14", "win_back_days": "", "contact_kinds": ["call", "visit"]})

    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.every_days, plan.contact_kinds) == (14, ["visit", "call"])
    assert ContactStatus.objects.get(customer=customer).due_on == TODAY + 12 * DAY


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"every_days": "0"}, "every_days"),
        ({"every_days": "-3"}, "every_days"),
        ({"every_days": ""}, "every_days"),
        ({"win_back_days": "30"}, "win_back_days"),
        ({"contact_kinds": []}, "contact_kinds"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_field(admin_client, data, field):
    plan = ContactPlan.objects.get(tier__code="vip")
    posted = {"every_days": "7", "win_back_days": "", "contact_kinds": ["visit", "call"], **data}

    response = admin_client.post(reverse("admin:service_contactplan_change", args=[plan.pk]), posted)

    assert field in form_errors(response)
    plan.refresh_from_db()
    assert plan.every_days == 7 and plan.contact_kinds == ["visit", "call", "meeting", "email"]


def test_plans_are_not_deleted_and_not_added_twice(admin_client):
    assert admin_client.get(reverse("admin:service_contactplan_add")).status_code == 403  # every tier has one
    plan = ContactPlan.objects.get(tier__code="vip")
    assert (
        admin_client.post(reverse("admin:service_contactplan_delete", args=[plan.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert ContactPlan.objects.count() == 5


# --- tasks ----------------------------------------------------------------------------------------


def test_a_staff_manager_sees_and_opens_only_their_own_customers_tasks(client, staff_manager, customer, outsider):
    own = TaskFactory(customer=customer, title="Own follow-up")
    foreign = TaskFactory(customer=CustomerFactory(account_manager=outsider), title="Outsider's follow-up")
    client.force_login(staff_manager)

    listing = client.get(reverse("admin:service_task_changelist")).content.decode()
    assert "Own follow-up" in listing and "Outsider&#x27;s follow-up" not in listing and "Outsider's" not in listing
    assert client.get(reverse("admin:service_task_change", args=[own.pk])).status_code == 200
    assert client.get(reverse("admin:service_task_change", args=[foreign.pk])).status_code == 302  # "does not exist"
    found = client.get(reverse("admin:service_task_changelist"), {"q": customer.code}).content.decode()
    assert "Own follow-up" in found


def test_a_task_added_in_admin_goes_through_the_service(client, staff_manager, customer, outsider, clock):
    client.force_login(staff_manager)
    url = reverse("admin:service_task_add")
    data = {
        "customer": customer.pk,
        "title": "Visit the new plant",
        "owner": "",
        "due_at_0": "2026-10-15",
        "due_at_1": "10:00:00",
        "priority": "3",
        "contact_kind": "visit",
        "note": "",
    }

    assert client.post(url, data).status_code == 302
    task = Task.objects.get()
    assert (task.owner, task.created_by, task.source, task.contact_kind) == (
        staff_manager,
        staff_manager,
        "manual",
        "visit",
    )

    foreign = CustomerFactory(account_manager=outsider)
    assert "customer" in form_errors(client.post(url, {**data, "customer": foreign.pk}))
    assert "owner" in form_errors(client.post(url, {**data, "owner": outsider.pk}))
    assert "due_at" in form_errors(client.post(url, {**data, "due_at_0": "", "due_at_1": ""}))
    assert Task.objects.count() == 1


def test_an_administrator_assigning_someone_who_cannot_see_the_customer_gets_a_field_error(
    admin_client, customer, outsider, clock
):
    task = TaskFactory(customer=customer)
    url = reverse("admin:service_task_change", args=[task.pk])
    data = {
        "title": task.title,
        "owner": outsider.pk,
        "due_at_0": "2026-10-15",
        "due_at_1": "10:00:00",
        "priority": "2",
        "contact_kind": "",
        "note": "",
    }

    assert "owner" in form_errors(admin_client.post(url, data))
    assert admin_client.post(url, {**data, "owner": customer.account_manager_id, "note": "Moved"}).status_code == 302
    task.refresh_from_db()
    assert task.note == "Moved" and task.due_at == datetime.datetime.fromisoformat("2026-10-15T10:00:00+08:00")


def test_the_complete_action_records_the_contact_and_leaves_closed_tasks_alone(admin_client, customer, clock):
    call = TaskFactory(customer=customer, contact_kind="call")
    done = TaskFactory(customer=customer, status=Task.Status.DONE)

    response = admin_client.post(
        reverse("admin:service_task_changelist"),
        {"action": "complete_selected", "_selected_action": [call.pk, done.pk]},
    )

    assert response.status_code == 302
    call.refresh_from_db()
    assert call.status == Task.Status.DONE and call.activity.kind == "call" and call.activity.happened_at == NOW
    assert Interaction.objects.count() == 1
    assert admin_client.get(reverse("admin:service_task_delete", args=[call.pk])).status_code == 403


def test_the_task_list_filters_by_status_source_priority_owner_and_due(admin_client, customer, clock):
    TaskFactory(customer=customer, title="Overdue one", due_at=NOW - DAY)
    TaskFactory(customer=customer, title="Later one", due_at=NOW + 30 * DAY, priority=Task.Priority.URGENT)
    url = reverse("admin:service_task_changelist")
    page = admin_client.get(url, {"bucket": "overdue"}).content.decode()
    assert "Overdue one" in page and "Later one" not in page
    page = admin_client.get(url, {"priority__exact": "4", "status__exact": "open", "source__exact": "manual"})
    assert "Later one" in page.content.decode() and "Overdue one" not in page.content.decode()
    page = admin_client.get(url, {"owner__id__exact": customer.account_manager_id}).content.decode()
    assert "Overdue one" in page and "Later one" in page


# --- read-only lists ----------------------------------------------------------------------------


def test_contact_statuses_are_listed_by_due_state_read_only(client, staff_manager, clock, outsider):
    overdue = CustomerFactory(account_manager=staff_manager, tier=tier("vip"), name="Overdue VIP")
    fine = CustomerFactory(account_manager=staff_manager, tier=tier("ordinary"), name="Fine ordinary")
    foreign = CustomerFactory(account_manager=outsider, tier=tier("vip"), name="Outsider VIP")
    InteractionFactory(customer=overdue, kind="visit", occurred_at=TODAY - 20 * DAY)
    InteractionFactory(customer=fine, kind="visit", occurred_at=TODAY - DAY)
    InteractionFactory(customer=foreign, kind="visit", occurred_at=TODAY - 20 * DAY)
    contact_status_refresh(None)
    client.force_login(staff_manager)
    url = reverse("admin:service_contactstatus_changelist")

    page = client.get(url, {"due": "overdue"}).content.decode()
    assert "Overdue VIP" in page and "Fine ordinary" not in page and "Outsider VIP" not in page
    page = client.get(url, {"due": "later"}).content.decode()
    assert "Fine ordinary" in page and "Overdue VIP" not in page
    assert client.get(reverse("admin:service_contactstatus_add")).status_code == 403


def test_letters_sent_are_read_only_and_scoped(client, staff_manager, customer, outsider, clock):
    mine = LetterDispatch.objects.create(
        customer=customer, change=TierChangeFactory(customer=customer), method="print", sent_by=staff_manager
    )
    foreign_customer = CustomerFactory(account_manager=outsider, name="Outsider letter customer")
    LetterDispatch.objects.create(
        customer=foreign_customer, change=TierChangeFactory(customer=foreign_customer), method="print"
    )
    client.force_login(staff_manager)

    page = client.get(reverse("admin:service_letterdispatch_changelist")).content.decode()
    assert customer.code in page and foreign_customer.code not in page
    assert client.get(reverse("admin:service_letterdispatch_change", args=[mine.pk])).status_code == 200
    response = client.post(reverse("admin:service_letterdispatch_change", args=[mine.pk]), {"method": "email"})
    assert response.status_code == 403
    assert client.get(reverse("admin:service_letterdispatch_add")).status_code == 403


@pytest.mark.parametrize("model", ["task", "contactstatus", "letterdispatch"])
def test_change_lists_never_count_every_row(admin_client, model):
    response = admin_client.get(reverse(f"admin:service_{model}_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].show_full_result_count is False
