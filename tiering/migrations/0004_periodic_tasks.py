"""Create the beat schedule rows (see tiering/schedules.py for when each fires, in words)."""

from django.conf import settings
from django.db import migrations


def create(apps, schema_editor):
    from tiering.schedules import periodic_tasks_create  # at migration time, as RunPython code does

    periodic_tasks_create(
        apps.get_model("django_celery_beat", "CrontabSchedule"),
        apps.get_model("django_celery_beat", "PeriodicTask"),
        settings.TIME_ZONE,
    )


def remove(apps, schema_editor):
    from tiering.schedules import PERIODIC_TASKS  # at migration time, as RunPython code does

    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[row[0] for row in PERIODIC_TASKS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tiering", "0003_chunk_summaries_lifecycle_settings"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
