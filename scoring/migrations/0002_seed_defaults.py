"""Seed the method's default tiers and scoring profile, so a fresh database scores correctly."""

from django.db import migrations

TIERS = [
    # code, rank, zh, en, min_score, share, colour, dedicated, visit zh, visit en, response min, service zh, service en
    ("vip", 1, "VIP客户", "VIP", 90, 5, "#b45309", True, "每周联系", "Weekly contact", 15,
     "专属客户经理、定制方案、高层拜访、7×24 小时支持", "Dedicated account manager, custom plans, executive visits, 24×7 support"),
    ("core", 2, "核心客户", "Core", 75, 15, "#1d4ed8", False, "每月回访", "Monthly return visit", 120,
     "指定客户经理、每月回访、4 小时升级处理", "Assigned account manager, monthly return visit, 4-hour escalation"),
    ("potential", 3, "潜力客户", "Potential", 60, 30, "#047857", False, "每季度跟进", "Quarterly follow-up", 1440,
     "指定客户经理、定向培育、季度跟进、培训", "Assigned manager, targeted nurturing, quarterly follow-up, training"),
    ("ordinary", 4, "普通客户", "Ordinary", 45, 35, "#4b5563", False, "每年满意度调查", "Yearly satisfaction survey", 1440,
     "标准渠道、自助服务、年度满意度调查", "Standard channel, self-service, yearly satisfaction survey"),
    ("dormant", 5, "休眠客户", "Dormant", 0, 15, "#9ca3af", False, "30 天内致电", "Call within 30 days", 2880,
     "分析原因、挽回优惠、30 天内致电", "Analyse the cause, win-back offer, call within 30 days"),
]

RULES = [
    # metric, category, weight, floor, cap, missing
    ("spend_12m", "quantitative", 30, 0, 500000, None),
    ("orders_12m", "quantitative", 20, 0, 24, None),
    ("avg_order_value_12m", "quantitative", 10, 0, 2000, None),
    ("tenure_years", "qualitative", 15, 0, 5, None),
    ("satisfaction_12m", "qualitative", 15, 1, 5, 3),
    ("strategic_potential", "qualitative", 10, 0, 10, None),
]


def seed(apps, schema_editor):
    Tier = apps.get_model("scoring", "Tier")
    ScoringProfile = apps.get_model("scoring", "ScoringProfile")
    ScoreRule = apps.get_model("scoring", "ScoreRule")
    for code, rank, zh, en, min_score, share, colour, dedicated, vzh, ven, minutes, szh, sen in TIERS:
        Tier.objects.get_or_create(
            code=code,
            defaults=dict(
                rank=rank, name_zh=zh, name_en=en, min_score=min_score, target_share=share, colour=colour,
                dedicated_manager=dedicated, visit_frequency_zh=vzh, visit_frequency_en=ven,
                first_response_minutes=minutes, service_zh=szh, service_en=sen,
            ),
        )
    profile, created = ScoringProfile.objects.get_or_create(
        name="Default",
        defaults={"is_default": True, "description": "The method's default: quantitative 60 / qualitative 40."},
    )
    if created:
        for position, (metric, category, weight, floor, cap, missing) in enumerate(RULES):
            ScoreRule.objects.create(
                profile=profile, metric=metric, category=category, weight=weight, normalisation="linear",
                floor=floor, cap=cap, missing_value=missing, direction="higher", position=position,
            )


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial"), ("crm", "0003_seed_industries")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
