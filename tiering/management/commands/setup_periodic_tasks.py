"""Re-create the tiering beat schedule (the same rows the data migration creates); safe to run again."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django_celery_beat.models import CrontabSchedule, PeriodicTask, PeriodicTasks

from tiering.schedules import PERIODIC_TASKS, periodic_tasks_create


class Command(BaseCommand):
    help = "Create or restore the periodic tasks of tiering (quarterly and monthly runs, warnings, sweep)."

    def handle(self, *args, **options):
        count = periodic_tasks_create(CrontabSchedule, PeriodicTask, settings.TIME_ZONE)
        PeriodicTasks.update_changed()  # tell a running beat to reload
        for name, _task, cron, _kwargs, words in PERIODIC_TASKS:
            self.stdout.write(f"{name}: {' '.join(cron)}  ({words})")
        self.stdout.write(self.style.SUCCESS(f"{count} periodic tasks in place."))
