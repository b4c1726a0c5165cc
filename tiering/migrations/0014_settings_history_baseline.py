"""Record the tiering settings as they stand, so the first change made with a reason shows each
field before and after in the history (the seeded row had no history row of its own)."""

from django.db import migrations
from django.utils import timezone

REASON = "Values in force when change reasons started to be kept"


def record_baseline(apps, schema_editor):
    settings_model = apps.get_model("tiering", "TieringSettings")
    history = apps.get_model("tiering", "HistoricalTieringSettings")
    fields = [field.attname for field in settings_model._meta.concrete_fields]
    for settings in settings_model.objects.all():
        if history.objects.filter(id=settings.pk).exists():
            continue
        history.objects.create(
            **{name: getattr(settings, name) for name in fields},
            history_date=timezone.now(),
            history_type="+",
            history_change_reason=REASON,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tiering", "0013_run_rulebook_and_change_reasons"),
    ]

    operations = [migrations.RunPython(record_baseline, migrations.RunPython.noop)]
