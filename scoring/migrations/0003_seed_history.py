"""Give the seeded tiers, profile and rules a first history row, so the first edit shows before/after."""

from django.db import migrations
from django.utils import timezone


def _record(historical_model, instance, when):
    values = {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}
    historical_model.objects.create(history_date=when, history_type="+", history_change_reason="seeded", **values)


def seed_history(apps, schema_editor):
    when = timezone.now()
    for name in ("Tier", "ScoringProfile", "ScoreRule"):
        model = apps.get_model("scoring", name)
        historical = apps.get_model("scoring", f"Historical{name}")
        recorded = set(historical.objects.values_list("id", flat=True))
        for instance in model.objects.exclude(pk__in=recorded):
            _record(historical, instance, when)


class Migration(migrations.Migration):
    dependencies = [("scoring", "0002_seed_defaults")]
    operations = [migrations.RunPython(seed_history, migrations.RunPython.noop)]
