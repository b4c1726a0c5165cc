"""Seed the standard industry list; administrators edit it in admin afterwards."""

from django.db import migrations

INDUSTRIES = [
    ("MFG", "制造业", "Manufacturing", False),
    ("IT", "信息技术", "Information technology", False),
    ("RET", "零售", "Retail", False),
    ("EDU", "教育", "Education", False),
    ("FIN", "金融", "Finance", False),
    ("MED", "医疗健康", "Healthcare", True),
    ("NEV", "新能源", "New energy", True),
    ("LOG", "物流", "Logistics", False),
    ("CON", "建筑", "Construction", False),
    ("AGR", "农业", "Agriculture", False),
]


def seed(apps, schema_editor):
    Industry = apps.get_model("crm", "Industry")
    for code, name_zh, name_en, strategic in INDUSTRIES:
        Industry.objects.get_or_create(
            code=code, defaults={"name_zh": name_zh, "name_en": name_en, "strategic": strategic}
        )


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
