"""Playbooks turn tier events into tasks for the right people, exactly once per customer, event and step."""

import datetime

import pytest
import time_machine

from commitments.models import Playbook, PlaybookStep
from commitments.services.playbooks import playbooks_sweep
from core.tests.clock import RUN_DAY
from crm.services import customer_update
from crm.tests.factories import CustomerFactory
from service.models import Task
from tiering.models import Notice
from tiering.tests.conftest import run_now, weak_customer
from tiering.tests.factories import tier


@pytest.fixture
def fallen(manager):
    """A VIP customer with nothing left to score: the next run downgrades it to dormant."""
    return weak_customer(manager, tier=tier("vip"), computed_tier=tier("vip"))


def test_a_downgrade_to_dormant_plans_the_seeded_steps_once_even_after_a_forced_rerun(fallen, manager):
    run_now(RUN_DAY)
    assert Notice.objects.filter(customer=fallen, kind=Notice.Kind.DOWNGRADE).count() == 1
    with time_machine.travel(datetime.datetime(2026, 10, 1, 3, 0), tick=False):
        assert playbooks_sweep() == 4
        assert playbooks_sweep() == 0
    titles = sorted(Task.objects.filter(customer=fallen).values_list("title", flat=True))
    assert titles == ["Cause-analysis call", "Make a win-back offer", "Send the downgrade letter", "Win-back call"]
    assert set(Task.objects.values_list("owner__username", "source")) == {("manager", "playbook")}
    letter = Task.objects.get(title="Send the downgrade letter")
    assert letter.due_at == datetime.datetime(2026, 10, 4, 3, 0, tzinfo=datetime.UTC).astimezone(letter.due_at.tzinfo)

    # Back in VIP (say the orders were corrected), then the quarter is rerun: the rerun records
    # the quarter's downgrade again (a new notice), but its steps are not planned twice.
    type(fallen).objects.filter(pk=fallen.pk).update(tier=tier("vip"), computed_tier=tier("vip"))
    run_now(RUN_DAY, force=True)
    assert Notice.objects.filter(customer=fallen, kind=Notice.Kind.DOWNGRADE).count() == 2
    playbooks_sweep()
    assert Task.objects.filter(customer=fallen).count() == 4


def test_a_step_owned_by_the_tier_administrator_goes_to_one(manager, admin_user):
    customer = weak_customer(manager, tier=tier("vip"), computed_tier=tier("vip"))
    playbook = Playbook.objects.get(event=Playbook.Event.DOWNGRADED_INTO, tier__isnull=True)
    PlaybookStep.objects.create(
        playbook=playbook, position=3, goal="Check the rules", action="Review the downgrade",
        owner_role=PlaybookStep.OwnerRole.TIER_ADMIN, due_days=5,
    )
    run_now(RUN_DAY)
    playbooks_sweep()
    assert Task.objects.get(customer=customer, title="Review the downgrade").owner == admin_user


def test_an_inactive_playbook_plans_nothing(fallen):
    Playbook.objects.update(active=False)
    run_now(RUN_DAY)
    assert playbooks_sweep() == 0
    assert not Task.objects.exists()


def test_a_prospect_graded_a_gets_its_playbook_once(manager, django_capture_on_commit_callbacks):
    playbook = Playbook.objects.create(event=Playbook.Event.PROSPECT_GRADE_A, name="Close the deal")
    PlaybookStep.objects.create(playbook=playbook, goal="Convert", action="Send the proposal", due_days=3)
    prospect = CustomerFactory(account_manager=manager, cooperation_since=None)
    for grade in ("A", "B", "A"):
        with django_capture_on_commit_callbacks(execute=True):
            customer_update(customer=prospect, changed_by=manager, prospect_grade=grade)
    assert list(Task.objects.filter(customer=prospect).values_list("title", flat=True)) == ["Send the proposal"]
