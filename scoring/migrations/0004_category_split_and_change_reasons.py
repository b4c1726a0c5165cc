"""Each profile declares its category split; change reasons become free text.

Existing profiles get the split their rules already have, so none becomes invalid: the seeded
default (and the demo B2C profile) have quantitative 60 / qualitative 40. A profile whose rules
do not add up to 100 (only possible by editing the database) gets the method's 60 / 40. Its
history rows get the same split, so the first edit after this migration shows a true before →
after."""

from decimal import Decimal

import django.core.validators
import django.db.models.expressions
from django.db import migrations, models

DEFAULT_SPLIT = (Decimal(60), Decimal(40))


def split_from_rules(apps, schema_editor):
    ScoringProfile = apps.get_model("scoring", "ScoringProfile")
    ScoreRule = apps.get_model("scoring", "ScoreRule")
    HistoricalScoringProfile = apps.get_model("scoring", "HistoricalScoringProfile")
    points: dict[int, dict[str, Decimal]] = {}
    for profile_id, category, weight in ScoreRule.objects.values_list("profile_id", "category", "weight"):
        totals = points.setdefault(profile_id, {"quantitative": Decimal(0), "qualitative": Decimal(0)})
        if category in totals:
            totals[category] += weight
    for profile_id in ScoringProfile.objects.values_list("id", flat=True):
        totals = points.get(profile_id, {})
        quantitative, qualitative = totals.get("quantitative", Decimal(0)), totals.get("qualitative", Decimal(0))
        if quantitative + qualitative != Decimal(100):
            quantitative, qualitative = DEFAULT_SPLIT
        if (quantitative, qualitative) == DEFAULT_SPLIT:
            continue  # the column default already says so
        values = {"quantitative_points": quantitative, "qualitative_points": qualitative}
        ScoringProfile.objects.filter(id=profile_id).update(**values)
        HistoricalScoringProfile.objects.filter(id=profile_id).update(**values)


def _points_field(default: int, verbose_name: str, help_text: str):
    return models.DecimalField(
        decimal_places=2,
        default=Decimal(default),
        help_text=help_text,
        max_digits=5,
        validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(100)],
        verbose_name=verbose_name,
    )


QUANTITATIVE_HELP = "What the quantitative rules add up to. With the qualitative points, exactly 100."
QUALITATIVE_HELP = "What the qualitative rules add up to. Bonus rules are outside the split."


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0007_tier_keys_kept_by_orm"),
        ("scoring", "0003_seed_history"),
    ]

    operations = [
        *(
            migrations.AddField(model_name=model, name=name, field=_points_field(default, verbose, help_text))
            for model in ("historicalscoringprofile", "scoringprofile")
            for name, default, verbose, help_text in (
                ("qualitative_points", 40, "qualitative points", QUALITATIVE_HELP),
                ("quantitative_points", 60, "quantitative points", QUANTITATIVE_HELP),
            )
        ),
        *(
            migrations.AlterField(model_name=model, name="history_change_reason", field=models.TextField(null=True))
            for model in ("historicalscorerule", "historicalscoringprofile", "historicaltier")
        ),
        migrations.RunPython(split_from_rules, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="scoringprofile",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "quantitative_points",
                        django.db.models.expressions.CombinedExpression(
                            models.Value(Decimal("100")), "-", models.F("qualitative_points")
                        ),
                    )
                ),
                name="scoring_profile_split_adds_up_to_100",
                violation_error_message="The quantitative and qualitative points must add up to 100.",
            ),
        ),
    ]
