"""Role groups with sensible default permissions; administrators adjust them in admin.

Sensitive fields (crm.view_sensitive_fields) are granted to no group by default: an
administrator gives them to named people.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Account managers": [
        "crm.view_industry",
        "crm.view_customer", "crm.change_customer",
        "crm.view_order",
        "crm.view_interaction", "crm.add_interaction", "crm.change_interaction",
        "crm.view_satisfactionsurvey", "crm.add_satisfactionsurvey",
        "scoring.view_tier",
        "tiering.view_tierassignment", "tiering.view_tierchange",
        "tiering.view_notice", "tiering.change_notice",
        "tiering.view_tieroverride",
    ],
    "Tier administrators": [
        "crm.view_industry", "crm.add_industry", "crm.change_industry",
        "crm.view_customer", "crm.view_all_customers",
        "crm.view_order", "crm.view_interaction", "crm.view_satisfactionsurvey",
        "scoring.view_tier", "scoring.add_tier", "scoring.change_tier",
        "scoring.view_scoringprofile", "scoring.add_scoringprofile", "scoring.change_scoringprofile",
        "scoring.delete_scoringprofile",
        "scoring.view_scorerule", "scoring.add_scorerule", "scoring.change_scorerule", "scoring.delete_scorerule",
        "tiering.view_tierrun", "tiering.add_tierrun", "tiering.change_tierrun",
        "tiering.view_tierassignment", "tiering.view_tierchange", "tiering.view_notice",
        "tiering.view_tieroverride", "tiering.add_tieroverride", "tiering.change_tieroverride",
        "tiering.delete_tieroverride",
        "tiering.view_tieringsettings", "tiering.change_tieringsettings",
    ],
    "Integrations": [
        "crm.view_industry",
        "crm.view_customer", "crm.add_customer", "crm.change_customer", "crm.view_all_customers",
        "crm.view_order", "crm.add_order",
        "crm.view_interaction", "crm.add_interaction",
        "crm.view_satisfactionsurvey", "crm.add_satisfactionsurvey",
        "scoring.view_tier",
        "tiering.view_tierrun", "tiering.add_tierrun", "tiering.view_tierchange",
    ],
}


def seed_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now so groups can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        for name in names:
            app_label, codename = name.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                group.permissions.add(permission)


def unseed_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0003_seed_industries"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("scoring", "0002_seed_defaults"),
        ("tiering", "0002_seed_settings"),
    ]
    operations = [migrations.RunPython(seed_groups, unseed_groups)]
