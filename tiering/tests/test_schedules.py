import json

from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from tiering import schedules


def test_the_migration_creates_the_beat_schedule(db):
    quarterly = PeriodicTask.objects.get(name=schedules.QUARTERLY_RUN)
    cron = quarterly.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year) == ("0", "2", "1", "1,4,7,10")
    assert str(cron.timezone) == "Asia/Shanghai"
    assert quarterly.task == "tiering.tasks.tier_run_scheduled" and json.loads(quarterly.kwargs) == {"scope": "all"}
    monthly = PeriodicTask.objects.get(name=schedules.MONTHLY_RUN)
    assert json.loads(monthly.kwargs) == {"scope": "vip_at_risk"} and monthly.crontab.hour == "2"
    assert PeriodicTask.objects.get(name=schedules.DOWNGRADE_WARNINGS).task == "tiering.tasks.downgrade_warnings_send"
    assert PeriodicTask.objects.get(name=schedules.SWEEP).crontab.hour == "*"
    assert all(task.description for task in PeriodicTask.objects.filter(name__startswith="tiering:"))


def test_setup_periodic_tasks_restores_edited_rows_without_duplicates(db):
    PeriodicTask.objects.filter(name=schedules.SWEEP).delete()
    PeriodicTask.objects.filter(name=schedules.QUARTERLY_RUN).update(enabled=False)
    call_command("setup_periodic_tasks", stdout=open("/dev/null", "w"))
    call_command("setup_periodic_tasks", stdout=open("/dev/null", "w"))
    assert PeriodicTask.objects.filter(name__startswith="tiering:").count() == 4
    assert PeriodicTask.objects.get(name=schedules.QUARTERLY_RUN).enabled
