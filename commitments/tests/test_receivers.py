"""How service commitments react to tiering: a run that succeeds plans its playbook steps at once
(not only at the next minute's sweep), exactly once, also across a forced rerun."""

import logging

import pytest
from kombu.exceptions import OperationalError

from commitments import tasks
from commitments.models import PlaybookCursor
from core.tests.clock import RUN_DAY
from service.models import Task
from tiering.models import Notice
from tiering.tests.conftest import run_now, weak_customer
from tiering.tests.factories import tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def fallen(manager):
    """A VIP customer with nothing left to score: the next run downgrades it to dormant."""
    return weak_customer(manager, tier=tier("vip"), computed_tier=tier("vip"))


def test_a_run_plans_its_playbook_steps_once_and_a_forced_rerun_none_twice(fallen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run_now(RUN_DAY)
    titles = sorted(Task.objects.filter(customer=fallen, source=Task.Source.PLAYBOOK).values_list("title", flat=True))
    assert titles == ["Cause-analysis call", "Make a win-back offer", "Send the downgrade letter", "Win-back call"]
    assert PlaybookCursor.objects.get().last_notice_id == Notice.objects.latest("pk").pk

    type(fallen).objects.filter(pk=fallen.pk).update(tier=tier("vip"), computed_tier=tier("vip"))
    with django_capture_on_commit_callbacks(execute=True):
        run_now(RUN_DAY, force=True)  # the quarter again: its downgrade is noticed again
    assert Notice.objects.filter(customer=fallen, kind=Notice.Kind.DOWNGRADE).count() == 2
    assert Task.objects.filter(customer=fallen).count() == 4


def test_a_broker_away_leaves_the_steps_to_the_every_minute_sweep(
    fallen, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(tasks.playbooks_sweep, "apply_async", broker_down)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        run = run_now(RUN_DAY)
    assert run.status == "succeeded"
    assert "every-minute sweep" in caplog.text
    assert not Task.objects.exists()
    monkeypatch.undo()
    assert tasks.playbooks_sweep() == 4  # what beat runs each minute
