"""Follow-up tasks: planned (for the account manager by default), changed, completed (a contact task
records its activity through the one write path) or cancelled, and planned from a notice's next steps."""

import datetime

import pytest
import time_machine

from core.exceptions import ConflictError, DomainError
from core.tests.clock import RUN_DAY
from crm.models import Interaction
from crm.services import interactions_record
from crm.signals import customer_data_changed
from crm.tests.factories import CustomerFactory
from service import next_steps
from service.models import Task
from service.services.tasks import task_cancel, task_complete, task_create, task_from_notice, task_update
from service.tests.factories import NOW, TaskFactory
from tiering.models import Notice
from tiering.tests.conftest import run_now, strong_customer
from tiering.tests.factories import NoticeFactory, TierChangeFactory, tier

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def plan(customer, user, **fields):
    values = {"title": "Call about the renewal", "due_at": NOW + 2 * DAY, **fields}
    return task_create(customer=customer, user=user, **values)


# --- who owns a task --------------------------------------------------------------------------


@pytest.mark.parametrize("planner", ["manager", "admin_user", "integration_user"])
def test_the_owner_defaults_to_the_customers_account_manager(request, clock, manager, customer, planner):
    user = request.getfixturevalue(planner)
    task = plan(customer, user)
    assert task.owner == manager and task.status == Task.Status.OPEN and task.created_by == user


def test_an_account_manager_cannot_plan_a_task_for_someone_else(clock, manager, outsider, admin_user, customer):
    with pytest.raises(DomainError) as refused:
        plan(customer, manager, owner=admin_user.username)
    assert list(refused.value.fields) == ["owner"]
    assert not Task.objects.exists()


def test_an_administrator_assigns_anyone_who_manages_or_sees_the_customer(clock, admin_user, outsider, customer):
    assert plan(customer, admin_user, owner="admin").owner == admin_user
    with pytest.raises(DomainError) as refused:
        plan(customer, admin_user, owner=outsider.username)  # the outsider would never see the task
    assert list(refused.value.fields) == ["owner"]
    assert Task.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"due_at": None}, "due_at"), ({"due_at": "next Tuesday"}, "due_at"), ({"title": "  "}, "title")],
)
def test_a_task_without_a_due_time_or_title_is_refused_naming_the_field(clock, manager, customer, fields, field):
    with pytest.raises(DomainError) as refused:
        plan(customer, manager, **fields)
    assert field in refused.value.fields
    assert not Task.objects.exists()


def test_a_task_without_an_owner_is_refused(clock):
    unmanaged = CustomerFactory(account_manager=None)
    with pytest.raises(DomainError) as refused:
        plan(unmanaged, None)  # the system plans: nobody to default to
    assert list(refused.value.fields) == ["owner"]


def test_an_outsiders_customer_is_refused_naming_customer(clock, outsider, customer):
    with pytest.raises(DomainError) as refused:
        plan(customer, outsider)
    assert "customer" in refused.value.fields
    assert not Task.objects.exists()


def test_an_open_task_is_changed_and_a_closed_one_is_not(clock, manager, customer):
    task = plan(customer, manager)
    task_update(task=task, user=manager, due_at=NOW + 5 * DAY, priority=Task.Priority.URGENT)
    task.refresh_from_db()
    assert task.due_at == NOW + 5 * DAY and task.priority == Task.Priority.URGENT

    task_cancel(task=task, user=manager, note="The customer asked us to wait")
    with pytest.raises(ConflictError):
        task_update(task=task, user=manager, title="Too late")
    with pytest.raises(DomainError) as refused:
        task_update(task=plan(customer, manager), user=manager, customer="X")
    assert list(refused.value.fields) == ["customer"]


# --- completing --------------------------------------------------------------------------------


def test_completing_a_contact_task_records_one_activity_through_the_one_write_path(
    clock, manager, vip_customer, django_capture_on_commit_callbacks
):
    sent = []

    def listen(sender, *, customer_ids, cause, **kwargs):
        sent.append((cause, customer_ids))

    customer_data_changed.connect(listen)
    try:
        task = plan(vip_customer, manager, contact_kind="call")
        with django_capture_on_commit_callbacks(execute=True):
            task = task_complete(task=task, user=manager, note="Renewal agreed", duration_minutes=15, outcome="Renewal")
    finally:
        customer_data_changed.disconnect(listen)

    activity = Interaction.objects.get()
    assert task.status == Task.Status.DONE and task.activity == activity and task.completed_by == manager
    assert (activity.kind, activity.note, activity.outcome, activity.duration_minutes) == (
        "call",
        "Renewal agreed",
        "Renewal",
        15,
    )
    assert activity.recorded_by == manager and activity.happened_at == NOW
    assert sent == [("interactions", [vip_customer.pk])]
    vip_customer.refresh_from_db()
    assert vip_customer.contact_status.due_on == NOW.date() + 7 * DAY  # and the next contact moved


def test_a_third_complaint_logged_by_completing_a_task_raises_the_early_warning(
    manager, django_capture_on_commit_callbacks
):
    strong = strong_customer(manager)
    run_now(RUN_DAY)
    with time_machine.travel(datetime.datetime(2026, 11, 15, 2, tzinfo=datetime.UTC), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            interactions_record(
                rows=[
                    {"customer": strong, "kind": "complaint", "occurred_at": "2026-11-01"},
                    {"customer": strong, "kind": "complaint", "occurred_at": "2026-11-05"},
                ],
                recorded_by=manager,
            )
        assert not Notice.objects.filter(kind=Notice.Kind.EARLY_WARNING).exists()
        task = task_create(
            customer=strong,
            title="Log the complaint about late deliveries",
            due_at=datetime.datetime(2026, 11, 16, tzinfo=datetime.UTC),
            contact_kind="complaint",
            user=manager,
        )
        with django_capture_on_commit_callbacks(execute=True):
            task_complete(task=task, user=manager, note="Third late delivery this quarter")

    assert Interaction.objects.filter(customer=strong, kind="complaint").count() == 3
    notice = Notice.objects.get(kind=Notice.Kind.EARLY_WARNING)
    assert notice.customer_id == strong.pk and notice.recipient == manager
    assert notice.payload["flag"] == "complaints" and notice.payload["complaints_recent"] == 3


def test_completing_twice_is_a_conflict_and_records_nothing_more(clock, manager, customer):
    task = plan(customer, manager, contact_kind="visit")
    task_complete(task=task, user=manager)

    with pytest.raises(ConflictError) as conflict:
        task_complete(task=task, user=manager)

    assert conflict.value.status_code == 409 and conflict.value.code == "task_closed"
    assert Interaction.objects.count() == 1


def test_a_completion_dated_in_the_future_is_refused_naming_the_field(clock, manager, customer):
    task = plan(customer, manager, contact_kind="call")
    with pytest.raises(DomainError) as refused:
        task_complete(task=task, user=manager, occurred_at=(NOW + DAY).isoformat())
    assert refused.value.code == "invalid" and list(refused.value.fields) == ["occurred_at"]
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN and not Interaction.objects.exists()


def test_a_task_without_a_contact_records_no_activity(clock, manager, customer):
    task = task_complete(task=plan(customer, manager), user=manager, note="Sent the brochure")
    assert task.status == Task.Status.DONE and task.activity is None and task.completion_note == "Sent the brochure"
    assert not Interaction.objects.exists()


def test_cancelling_closes_the_task_once(clock, manager, customer):
    task = task_cancel(task=TaskFactory(customer=customer), user=manager, note="No longer needed")
    assert task.status == Task.Status.CANCELLED and task.completed_by == manager
    with pytest.raises(ConflictError):
        task_cancel(task=task, user=manager)


# --- next steps from a notice -------------------------------------------------------------------


def test_each_next_step_of_a_notice_is_planned_once(clock, manager, customer):
    notice = NoticeFactory(
        change=TierChangeFactory(customer=customer, from_tier=tier("vip"), to_tier=tier("core")), recipient=manager
    )
    steps = {step.key for step in next_steps.next_steps_for(notice, tier=tier("core"), top_tier_id=tier("vip").pk)}
    assert steps == {next_steps.SEND_LETTER, next_steps.WIN_BACK_CALL}

    call = task_from_notice(notice=notice, step_key=next_steps.WIN_BACK_CALL, user=manager)
    letter = task_from_notice(notice=notice, step_key=next_steps.SEND_LETTER, user=manager)
    with pytest.raises(ConflictError) as again:
        task_from_notice(notice=notice, step_key=next_steps.WIN_BACK_CALL, user=manager)

    assert again.value.code == "already_planned"
    assert (call.owner, call.contact_kind, call.source, call.due_at) == (manager, "call", "notice", NOW + 7 * DAY)
    assert (letter.source, letter.contact_kind, letter.due_at) == ("letter", "", NOW + 3 * DAY)
    assert Task.objects.filter(notice=notice).count() == 2


def test_a_step_the_notice_does_not_offer_is_refused_naming_step(clock, manager, customer):
    notice = NoticeFactory(
        change=TierChangeFactory(customer=customer, from_tier=tier("vip"), to_tier=tier("core")), recipient=manager
    )
    with pytest.raises(DomainError) as refused:
        task_from_notice(notice=notice, step_key=next_steps.EXECUTIVE_VISIT, user=manager)
    assert list(refused.value.fields) == ["step"]


def test_an_early_warning_is_called_within_the_tiers_first_response_time(clock, manager):
    core = CustomerFactory(account_manager=manager, tier=tier("core"))
    notice = Notice.objects.create(
        kind=Notice.Kind.EARLY_WARNING, customer=core, recipient=manager, dedupe_key="complaints:2026-10-11"
    )
    task = task_from_notice(notice=notice, step_key=next_steps.WARNING_CALL, user=manager)
    assert task.source == "warning" and task.due_at == NOW + datetime.timedelta(
        minutes=tier("core").first_response_minutes
    )
