"""The method's contact plans for the seeded tiers: VIP weekly, core monthly, potential quarterly,
ordinary yearly, dormant one win-back contact within 30 days. Administrators edit them in admin."""

from django.db import migrations

CADENCE = {"vip": (7, None), "core": (30, None), "potential": (90, None), "ordinary": (365, None), "dormant": (None, 30)}
KINDS = ["visit", "call", "meeting", "email"]


def seed(apps, schema_editor):
    Tier = apps.get_model("scoring", "Tier")
    ContactPlan = apps.get_model("service", "ContactPlan")
    for tier in Tier.objects.filter(code__in=CADENCE):
        every_days, win_back_days = CADENCE[tier.code]
        ContactPlan.objects.get_or_create(
            tier=tier, defaults={"every_days": every_days, "win_back_days": win_back_days, "contact_kinds": KINDS}
        )


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial"), ("scoring", "0002_seed_defaults")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
