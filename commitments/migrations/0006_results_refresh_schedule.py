"""The beat row that computes the company-wide results into the cache every five minutes."""

from django.conf import settings
from django.db import migrations


def create(apps, schema_editor):
    from commitments.schedules import PERIODIC_TASKS, RESULTS_REFRESH  # at migration time, as RunPython code does
    from tiering.schedules import periodic_tasks_create

    periodic_tasks_create(
        apps.get_model("django_celery_beat", "CrontabSchedule"),
        apps.get_model("django_celery_beat", "PeriodicTask"),
        settings.TIME_ZONE,
        tasks=[task for task in PERIODIC_TASKS if task[0] == RESULTS_REFRESH],
    )


def remove(apps, schema_editor):
    from commitments.schedules import RESULTS_REFRESH  # at migration time, as RunPython code does

    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=RESULTS_REFRESH).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0005_field_labels"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
