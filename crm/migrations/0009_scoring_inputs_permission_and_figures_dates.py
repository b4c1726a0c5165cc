"""Tier administrators govern scoring inputs; stored figures get the date they were computed for.

- "Tier administrators" receive crm.change_scoring_inputs (industry, customer type, cooperation
  date, account manager: only they may change them, crm.services.customer_update enforces it) and
  crm.change_customer, without which no door lets them edit a customer at all.
- Customers tiered before figures_as_of existed get the as-of date of the run that last wrote their
  spend and last order, so no stored figure is shown undated.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import OuterRef, Subquery

GRANTS = {"Tier administrators": ["change_customer", "change_scoring_inputs"]}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now so groups can hold them.
    crm = apps.get_app_config("crm")
    crm.models_module = True
    create_permissions(crm, apps=apps, verbosity=0)
    crm.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="crm", codename__in=codenames))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=group_name):
            group.permissions.remove(*Permission.objects.filter(content_type__app_label="crm", codename__in=codenames))


def backfill_figures_as_of(apps, schema_editor):
    Customer = apps.get_model("crm", "Customer")
    TierAssignment = apps.get_model("tiering", "TierAssignment")
    latest_run_as_of = (
        TierAssignment.objects.filter(customer_id=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("run__as_of")[:1]
    )
    Customer.objects.filter(figures_as_of__isnull=True).update(figures_as_of=Subquery(latest_run_as_of))


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0008_customer_history_figures_as_of"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tiering", "0012_run_trigger_event_removed"),
    ]
    operations = [
        migrations.RunPython(grant, revoke),
        migrations.RunPython(backfill_figures_as_of, migrations.RunPython.noop),
    ]
