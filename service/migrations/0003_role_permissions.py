"""The role groups' rights on the service side; administrators adjust them in admin.

Account managers plan, change and complete tasks and see contact statuses and letters sent (of
their own customers: visibility is core.access's rule, not a permission); tier administrators
edit contact plans; integrations read tasks and contact statuses (e.g. for BI).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Account managers": [
        "service.view_task",
        "service.add_task",
        "service.change_task",
        "service.view_contactstatus",
        "service.view_letterdispatch",
        "service.add_letterdispatch",
    ],
    "Tier administrators": [
        "service.view_contactplan",
        "service.add_contactplan",
        "service.change_contactplan",
        "service.view_task",
        "service.view_contactstatus",
        "service.view_letterdispatch",
    ],
    "Integrations": [
        "service.view_task",
        "service.view_contactstatus",
    ],
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now so groups can hold them.
    app_config = apps.get_app_config("service")
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


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)):
        codenames = [name.split(".")[1] for name in ROLE_PERMISSIONS[group.name]]
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="service", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0002_seed_contact_plans"),
        ("crm", "0004_role_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
