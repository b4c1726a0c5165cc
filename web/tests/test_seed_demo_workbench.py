"""The workbench part of the demo (web/demo_service.py through seed_demo): activities a manager
would have logged, prospects with grades, follow-ups of every urgency, and after the tier runs a
letter sent, next steps planned and every contact status computed."""

import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, Q

from crm.models import Customer, Interaction
from service import selectors
from service.models import ContactStatus, LetterDispatch, Task
from tiering.models import Notice

pytestmark = pytest.mark.django_db

MORNING = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


@time_machine.travel(MORNING, tick=False)
def test_the_demo_has_activities_with_times_prospects_with_grades_and_tasks_of_every_urgency():
    call_command("seed_demo", customers=200, seed=7, stdout=io.StringIO())
    contacts = Interaction.objects.filter(kind__in=["visit", "call", "meeting", "email"])
    assert set(contacts.values_list("kind", flat=True)) == {"visit", "call", "meeting", "email"}
    assert not contacts.filter(happened_at__isnull=True).exists()
    assert not contacts.filter(outcome="").exists()
    assert not Interaction.objects.filter(kind__in=["visit", "call", "meeting"], duration_minutes__isnull=True).exists()
    assert not Interaction.objects.filter(happened_at__gt=MORNING).exists()  # nothing in the future

    prospects = Customer.objects.filter(cooperation_since__isnull=True)
    assert prospects.exists() and not prospects.filter(prospect_grade="").exists()
    assert not prospects.exclude(prospect_grade="E").filter(expected_close_on__isnull=True).exists()

    manager1 = get_user_model().objects.get(username="manager1")
    counts = selectors.task_bucket_counts(manager1)
    assert all(counts[bucket] > 0 for bucket in ("overdue", "today", "week", "later")), counts
    assert Task.objects.filter(status=Task.Status.DONE).exists()


@time_machine.travel(MORNING, tick=True)
def test_after_the_runs_a_letter_is_sent_steps_are_planned_and_contacts_fall_due(django_capture_on_commit_callbacks):
    call_command("seed_demo", customers=300, seed=11, stdout=io.StringIO())
    with django_capture_on_commit_callbacks(execute=True):
        for as_of in ("2026-07-01", "2026-10-01"):
            call_command("retier", "--as-of", as_of, stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", after_runs=True, stdout=out)
    assert "letter(s) sent" in out.getvalue()
    assert LetterDispatch.objects.filter(method="print").count() == 2  # one per manager
    assert Task.objects.filter(notice__kind=Notice.Kind.DOWNGRADE, step="win_back_call").exists()
    statuses = ContactStatus.objects.aggregate(
        overdue=Count("pk", filter=Q(due_on__lt=MORNING.date())),
        total=Count("pk"),
    )
    assert 0 < statuses["overdue"] < statuses["total"]  # some kept up with, some overdue

    again = io.StringIO()
    call_command("seed_demo", after_runs=True, stdout=again)
    assert "0 letter(s) sent, 0 next step(s) planned" in again.getvalue()  # idempotent
