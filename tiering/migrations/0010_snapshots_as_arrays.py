# Snapshots move from JSON objects to float arrays aligned with the run's metric_keys.

from django.db import migrations, models

import core.fields
import tiering.models

# The registered metrics when this migration was written: the order existing snapshots take.
KEYS = [
    "spend_12m",
    "orders_12m",
    "avg_order_value_12m",
    "recency_days",
    "tenure_years",
    "satisfaction_12m",
    "strategic_potential",
    "referrals_12m",
    "complaints_12m",
    "social_shares_12m",
]


def _array_sql(column: str) -> str:
    return "ARRAY[" + ", ".join(f"COALESCE(({column} ->> '{key}')::float8, 'NaN')" for key in KEYS) + "]"


def snapshots_to_arrays(apps, schema_editor):
    TierRun = apps.get_model("tiering", "TierRun")
    TierAssignment = apps.get_model("tiering", "TierAssignment")
    TierRun.objects.update(metric_keys=KEYS)
    if schema_editor.connection.vendor == "postgresql":
        arrays = f"metric_values = {_array_sql('metrics')}, point_values = {_array_sql('points')}"
        schema_editor.execute(f"UPDATE tiering_tierassignment SET {arrays}")  # noqa: S608 (fixed keys)
        return
    batch = []
    for assignment in TierAssignment.objects.only("id", "metrics", "points").iterator(chunk_size=2000):
        assignment.metric_values = [assignment.metrics.get(key) for key in KEYS]
        assignment.point_values = [assignment.points.get(key) for key in KEYS]
        batch.append(assignment)
        if len(batch) >= 2000:
            TierAssignment.objects.bulk_update(batch, ["metric_values", "point_values"])
            batch = []
    TierAssignment.objects.bulk_update(batch, ["metric_values", "point_values"])


def snapshots_to_json(apps, schema_editor):
    TierAssignment = apps.get_model("tiering", "TierAssignment")
    for assignment in TierAssignment.objects.select_related("run").iterator(chunk_size=2000):
        keys = assignment.run.metric_keys
        assignment.metrics = dict(zip(keys, assignment.metric_values, strict=False))
        assignment.points = {k: v for k, v in zip(keys, assignment.point_values, strict=False) if v is not None}
        assignment.save(update_fields=["metrics", "points"])


class Migration(migrations.Migration):
    dependencies = [
        ("tiering", "0009_history_keys_kept_by_application"),
    ]

    operations = [
        migrations.AddField(
            model_name="tierrun",
            name="metric_keys",
            field=models.JSONField(default=tiering.models.metric_keys_default, editable=False),
        ),
        migrations.AddField(
            model_name="tierassignment",
            name="metric_values",
            field=core.fields.FloatArrayField(default=list),
        ),
        migrations.AddField(
            model_name="tierassignment",
            name="point_values",
            field=core.fields.FloatArrayField(default=list),
        ),
        migrations.RunPython(snapshots_to_arrays, snapshots_to_json),
        migrations.RemoveField(model_name="tierassignment", name="metrics"),
        migrations.RemoveField(model_name="tierassignment", name="points"),
    ]
