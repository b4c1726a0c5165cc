"""The role groups' rights on service commitments; administrators adjust them in admin.

Account managers open, answer and move cases on (of their own customers: visibility is
core.access's rule, not a permission), read the playbooks and see the results of their customers;
tier administrators edit business calendars, service levels and playbooks and see every case;
integrations open and answer cases from other systems and read playbooks and results.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CASES = ["commitments.view_case", "commitments.add_case", "commitments.change_case"]
REPLIES = ["commitments.view_casereply", "commitments.add_casereply"]
PLAYBOOKS_READ = ["commitments.view_playbook", "commitments.view_playbookstep"]
ROLE_PERMISSIONS = {
    "Account managers": [*CASES, *REPLIES, *PLAYBOOKS_READ, "commitments.view_results"],
    "Tier administrators": [
        *CASES,
        *REPLIES,
        *PLAYBOOKS_READ,
        "commitments.view_results",
        "commitments.add_playbook",
        "commitments.change_playbook",
        "commitments.delete_playbook",
        "commitments.add_playbookstep",
        "commitments.change_playbookstep",
        "commitments.delete_playbookstep",
        "commitments.view_businesscalendar",
        "commitments.add_businesscalendar",
        "commitments.change_businesscalendar",
        "commitments.view_calendarday",
        "commitments.add_calendarday",
        "commitments.change_calendarday",
        "commitments.delete_calendarday",
        "commitments.view_servicelevel",
        "commitments.add_servicelevel",
        "commitments.change_servicelevel",
    ],
    "Integrations": [*CASES, *REPLIES, *PLAYBOOKS_READ, "commitments.view_results"],
}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now so groups can hold them.
    app_config = apps.get_app_config("commitments")
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
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="commitments", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0003_case_first_response_seconds"),
        ("crm", "0004_role_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="case",
            options={
                "ordering": ["-opened_at", "-id"],
                "permissions": [("view_results", "Can view the results per tier")],
                "verbose_name": "case",
                "verbose_name_plural": "cases",
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
