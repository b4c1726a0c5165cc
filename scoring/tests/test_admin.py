import json
from decimal import Decimal

import pytest
from django.urls import reverse

from core.tests.clock import AS_OF
from crm.tests.factories import CustomerFactory
from scoring.models import ScoreRule, ScoringProfile, Tier
from scoring.validation import RULE_FIELDS

REASON = "Q3 review: frequency over-rewarded"


def profile_post_data(profile, **changes) -> dict:
    """The change form as a browser would post it, with rule fields overridable as 'metric.field'.

    It carries a change reason unless `change_reason=""` is given."""
    rules = list(profile.rules.order_by("position", "id"))
    data = {
        "name": profile.name,
        "description": profile.description,
        "is_default": "on" if profile.is_default else "",
        "is_active": "on" if profile.is_active else "",
        "customer_type": profile.customer_type,
        "quantitative_points": str(profile.quantitative_points),
        "qualitative_points": str(profile.qualitative_points),
        "change_reason": REASON,
        "rules-TOTAL_FORMS": str(len(rules) + 1),
        "rules-INITIAL_FORMS": str(len(rules)),
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
    }
    for index, rule in enumerate(rules):
        prefix = f"rules-{index}-"
        data[prefix + "id"] = str(rule.pk)
        data[prefix + "profile"] = str(profile.pk)
        for field in RULE_FIELDS:
            value = getattr(rule, field)
            if field == "bands":  # a callable default: the browser also posts the hidden initial value
                value = json.dumps(value or [])
                data["initial-" + prefix + field] = value
            data[prefix + field] = "" if value is None else str(value)
    extra = f"rules-{len(rules)}-"  # the empty extra form, with its default choices as a browser posts them
    data.update(
        {
            extra + "normalisation": "linear",
            extra + "direction": "higher",
            extra + "bands": "[]",
            "initial-" + extra + "bands": "[]",
        }
    )
    for key, value in changes.items():
        if "." in key:
            metric, field = key.split(".")
            index = [rule.metric for rule in rules].index(metric)
            data[f"rules-{index}-{field}"] = value
        else:
            data[key] = value
    return {key: value for key, value in data.items() if value != ""}


def change_url(profile):
    return reverse("admin:scoring_scoringprofile_change", args=[profile.pk])


def test_profile_page_shows_the_category_split(admin_client, default_profile):
    response = admin_client.get(change_url(default_profile))
    assert response.status_code == 200
    assert "quantitative 60 / qualitative 40" in response.content.decode()
    assert "Simulate this change" in response.content.decode()


def test_profile_page_speaks_chinese_by_default(client, admin_user, default_profile):
    client.force_login(admin_user)
    content = client.get(change_url(default_profile)).content.decode()
    assert 'lang="zh-hans"' in content
    assert "定量 60 / 定性 40" in content and "模拟此修改" in content


def test_profile_page_reads_in_chinese_down_to_its_industries_and_rules(client, admin_user, default_profile):
    """Industries are ticks (the two-list widget's help is English-only in Django's catalogue and
    its "hold down Control" hint does not apply); each rule row is titled by its metric's name."""
    client.force_login(admin_user)
    content = client.get(change_url(default_profile)).content.decode()
    assert 'type="checkbox" name="industries"' in content and "selectfilter" not in content
    assert "Control" not in content
    assert "近 12 个月消费额 (30.00)" in content and "spend_12m (30.00)" not in content


def test_tier_list_names_the_visit_frequency_column_in_chinese(client, admin_user):
    client.force_login(admin_user)
    content = client.get(reverse("admin:scoring_tier_changelist")).content.decode()
    assert "回访频率" in content and "Visit frequency" not in content


def test_profile_list_shows_version_and_split(admin_client, default_profile):
    response = admin_client.get(reverse("admin:scoring_scoringprofile_changelist"))
    assert response.status_code == 200 and "quantitative 60 / qualitative 40" in response.content.decode()


def test_profile_list_orders_chinese_names_by_pinyin(admin_client, default_profile):
    """The default profile first, then the others by name in pinyin: 北方 (bei), 成都 (cheng), 上海 (shang)."""
    for name in ("上海客户", "北方客户", "成都客户"):
        ScoringProfile.objects.create(name=name, is_active=False)
    listed = admin_client.get(reverse("admin:scoring_scoringprofile_changelist")).context["cl"].result_list
    assert [profile.name for profile in listed] == [default_profile.name, "北方客户", "成都客户", "上海客户"]


def test_saving_weights_that_do_not_add_up_shows_the_message_and_saves_nothing(admin_client, default_profile):
    response = admin_client.post(
        change_url(default_profile), profile_post_data(default_profile, **{"spend_12m.weight": "25"})
    )

    assert response.status_code == 200
    assert (
        "Quantitative rules add up to 55; this profile&#x27;s split gives quantitative 60." in response.content.decode()
    )
    default_profile.refresh_from_db()
    assert default_profile.version == 1
    assert default_profile.rules.get(metric="spend_12m").weight == Decimal("30")


def test_cap_below_floor_is_shown_on_the_rule(admin_client, default_profile):
    data = profile_post_data(default_profile, **{"orders_12m.cap": "0", "orders_12m.floor": "5"})
    response = admin_client.post(change_url(default_profile), data)
    assert "The cap (0) must be above the floor (5)." in response.content.decode()


def test_saving_a_change_bumps_the_version_once_and_records_who(admin_client, default_profile, admin_user):
    data = profile_post_data(
        default_profile,
        **{"spend_12m.weight": "25", "orders_12m.weight": "25", "description": "More weight on frequency"},
    )
    response = admin_client.post(change_url(default_profile), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    default_profile.refresh_from_db()
    assert default_profile.version == 2
    assert default_profile.description == "More weight on frequency"
    assert default_profile.rules.get(metric="spend_12m").weight == Decimal("25")
    assert default_profile.history.filter(version=2).count() == 1
    assert default_profile.history.latest().history_user == admin_user
    assert default_profile.history.latest().history_change_reason == REASON


def test_adding_a_bonus_rule_through_the_extra_form(admin_client, default_profile):
    data = profile_post_data(default_profile)
    data.update(
        {
            "rules-6-metric": "referrals_12m",
            "rules-6-category": "bonus",
            "rules-6-weight": "5",
            "rules-6-normalisation": "bands",
            "rules-6-bands": "[[1, 0.5], [3, 1]]",
            "rules-6-direction": "higher",
        }
    )
    response = admin_client.post(change_url(default_profile), data)
    assert response.status_code == 302
    assert default_profile.rules.get(metric="referrals_12m").bands == [[1.0, 0.5], [3.0, 1.0]]
    response = admin_client.get(change_url(default_profile))
    assert "quantitative 60 / qualitative 40 / bonus 5" in response.content.decode()


def test_saving_without_changes_keeps_the_version(admin_client, default_profile):
    response = admin_client.post(change_url(default_profile), profile_post_data(default_profile))
    assert response.status_code == 302
    default_profile.refresh_from_db()
    assert default_profile.version == 1


def test_adding_a_profile_starts_at_version_one(admin_client, default_profile):
    data = profile_post_data(default_profile, name="B2C retail", customer_type="b2c")
    data.pop("is_default", None)
    for key in [k for k in data if k.endswith("-id") or k.endswith("-profile")]:
        data.pop(key)
    data["rules-INITIAL_FORMS"] = "0"
    response = admin_client.post(reverse("admin:scoring_scoringprofile_add"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    created = ScoringProfile.objects.get(name="B2C retail")
    assert created.version == 1 and created.rules.count() == 6 and created.customer_type == "b2c"


def test_history_page_lists_profile_and_rule_changes(admin_client, default_profile):
    data = profile_post_data(default_profile, **{"spend_12m.weight": "25", "orders_12m.weight": "25"})
    admin_client.post(change_url(default_profile), data)

    response = admin_client.get(reverse("admin:scoring_scoringprofile_history", args=[default_profile.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Changes to this profile&#x27;s rules" in content or "Changes to this profile's rules" in content
    assert "30.00 &rarr; 25.00" in content
    assert "admin" in content
    rule_history = content.split('id="rule-history"', 1)[1]
    assert rule_history.count(f'<td class="change-reason">{REASON}</td>') == 2  # spend and orders
    profile_history = content.split('id="rule-history"', 1)[0]
    assert REASON in profile_history  # the profile's own row (its new version) says why too


def test_a_profile_change_without_a_reason_is_refused(admin_client, default_profile):
    data = profile_post_data(default_profile, change_reason="", **{"spend_12m.weight": "25", "orders_12m.weight": "25"})
    response = admin_client.post(change_url(default_profile), data)

    assert response.status_code == 200
    assert "Give a reason for this change" in response.content.decode()
    default_profile.refresh_from_db()
    assert default_profile.version == 1
    assert default_profile.rules.get(metric="spend_12m").weight == Decimal("30")


def test_rules_in_another_split_no_longer_save_silently(admin_client, default_profile):
    """Quantitative 65 / qualitative 35 adds up to 100, but the profile's split is 60 / 40."""
    data = profile_post_data(default_profile, **{"spend_12m.weight": "35", "tenure_years.weight": "10"})
    response = admin_client.post(change_url(default_profile), data)

    content = response.content.decode()
    assert response.status_code == 200
    assert "Quantitative rules add up to 65; this profile&#x27;s split gives quantitative 60." in content
    assert "Qualitative rules add up to 35; this profile&#x27;s split gives qualitative 40." in content
    default_profile.refresh_from_db()
    assert default_profile.version == 1
    assert default_profile.rules.get(metric="spend_12m").weight == Decimal("30")


def test_changing_the_split_with_its_rules_and_a_reason_saves_and_shows_in_history(admin_client, default_profile):
    data = profile_post_data(
        default_profile,
        quantitative_points="65",
        qualitative_points="35",
        change_reason="B2B buyers: spend says more than tenure",
        **{"spend_12m.weight": "35", "tenure_years.weight": "10"},
    )
    response = admin_client.post(change_url(default_profile), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    default_profile.refresh_from_db()
    assert (default_profile.quantitative_points, default_profile.qualitative_points) == (65, 35)
    assert default_profile.version == 2
    history = admin_client.get(reverse("admin:scoring_scoringprofile_history", args=[default_profile.pk]))
    content = history.content.decode()
    assert "B2B buyers: spend says more than tenure" in content
    assert "Quantitative points:</strong>" in content and "60.00" in content and "65.00" in content


def test_changing_the_split_asks_for_a_reason(admin_client, default_profile):
    data = profile_post_data(
        default_profile,
        quantitative_points="65",
        qualitative_points="35",
        change_reason="",
        **{"spend_12m.weight": "35", "tenure_years.weight": "10"},
    )
    response = admin_client.post(change_url(default_profile), data)

    assert response.status_code == 200
    assert "Give a reason for this change" in response.content.decode()
    assert ScoringProfile.objects.get(pk=default_profile.pk).quantitative_points == 60


def test_a_split_that_does_not_add_up_to_100_is_refused_on_the_form(admin_client, default_profile):
    data = profile_post_data(default_profile, quantitative_points="65")
    response = admin_client.post(change_url(default_profile), data)

    assert response.status_code == 200
    assert "The split must add up to 100 points: quantitative 65 + qualitative 40 = 105." in response.content.decode()
    assert ScoringProfile.objects.get(pk=default_profile.pk).quantitative_points == 60


def test_simulate_view_renders_a_matrix_for_the_unsaved_form(admin_client, default_profile):
    CustomerFactory()
    data = profile_post_data(default_profile, **{"spend_12m.weight": "25", "orders_12m.weight": "25"})
    response = admin_client.post(reverse("admin:scoring_scoringprofile_simulate", args=[default_profile.pk]), data)

    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="tier-matrix"' in content and "1 active customers" in content
    assert ScoringProfile.objects.get(pk=default_profile.pk).version == 1
    assert ScoreRule.objects.get(profile=default_profile, metric="spend_12m").weight == Decimal("30")


def test_simulating_the_saved_rules_shows_no_moves_and_the_drift_apart(admin_client, default_profile):
    CustomerFactory(computed_tier=Tier.objects.get(code="vip"))  # no orders today: dormant under the saved rules
    data = profile_post_data(default_profile, change_reason="")  # simulating needs no reason
    response = admin_client.post(reverse("admin:scoring_scoringprofile_simulate", args=[default_profile.pk]), data)

    content = response.content.decode()
    assert response.status_code == 200 and not response.context["errors"]
    result = response.context["result"]
    assert (result.upgrades, result.downgrades, result.unchanged) == (0, 0, 1)
    assert (result.drift.upgrades, result.drift.downgrades) == (0, 1)
    change, drift = content.split('id="tier-drift"', 1)
    assert "0 up, 0 down, 1 unchanged." in change
    assert "Drift since the last tier run (not part of this change)" in drift
    assert "0 up, 1 down, 0 unchanged since the last run." in drift


def test_simulate_view_lists_form_errors_instead_of_a_matrix(admin_client, default_profile):
    data = profile_post_data(default_profile, **{"spend_12m.weight": "25"})
    response = admin_client.post(reverse("admin:scoring_scoringprofile_simulate", args=[default_profile.pk]), data)
    content = response.content.decode()
    assert response.status_code == 200 and 'id="tier-matrix"' not in content
    assert "Quantitative rules add up to 55" in content


def test_simulate_view_is_for_staff_only(client, manager, default_profile):
    client.force_login(manager)
    response = client.post(reverse("admin:scoring_scoringprofile_simulate", args=[default_profile.pk]), {})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_tier_list_and_change_form(admin_client, admin_user):
    response = admin_client.get(reverse("admin:scoring_tier_changelist"))
    assert response.status_code == 200 and "VIP客户" in response.content.decode()
    core = Tier.objects.get(code="core")
    response = admin_client.post(
        reverse("admin:scoring_tier_change", args=[core.pk]),
        {
            "name_zh": core.name_zh,
            "name_en": core.name_en,
            "min_score": "95",
            "target_share": "15",
            "colour": core.colour,
            "first_response_minutes": "120",
            "change_reason": REASON,
        },
    )
    assert response.status_code == 200
    assert "must be below" in response.content.decode()
    assert Tier.objects.get(code="core").min_score == Decimal("75")

    response = admin_client.post(
        reverse("admin:scoring_tier_change", args=[core.pk]),
        {
            "name_zh": core.name_zh,
            "name_en": core.name_en,
            "min_score": "77.5",
            "target_share": "15",
            "colour": core.colour,
            "first_response_minutes": "60",
            "change_reason": "Core customers call back within an hour",
        },
    )
    assert response.status_code == 302
    core.refresh_from_db()
    assert core.min_score == Decimal("77.5") and core.first_response_minutes == 60
    assert core.history.latest().history_user == admin_user
    assert core.history.latest().history_change_reason == "Core customers call back within an hour"


def tier_post_data(tier, **changes) -> dict:
    data = {
        "name_zh": tier.name_zh,
        "name_en": tier.name_en,
        "min_score": str(tier.min_score),
        "target_share": str(tier.target_share),
        "colour": tier.colour,
        "first_response_minutes": str(tier.first_response_minutes),
        **changes,
    }
    return {key: value for key, value in data.items() if value != ""}


def test_a_tier_change_without_a_reason_is_refused(admin_client):
    core = Tier.objects.get(code="core")
    response = admin_client.post(
        reverse("admin:scoring_tier_change", args=[core.pk]), tier_post_data(core, first_response_minutes="60")
    )
    assert response.status_code == 200
    assert "Give a reason for this change" in response.content.decode()
    assert Tier.objects.get(code="core").first_response_minutes == 120


def test_a_tier_viewer_sees_no_reason_field(client, outsider):
    outsider.is_staff = True  # account managers may view tiers in admin, not change them
    outsider.save()
    client.force_login(outsider)
    core = Tier.objects.get(code="core")
    response = client.get(reverse("admin:scoring_tier_change", args=[core.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "field-min_score" in response.content.decode()
    assert "field-change_reason" not in response.content.decode()


def test_tier_history_shows_who_when_why_and_before_after(admin_client):
    core = Tier.objects.get(code="core")
    admin_client.post(
        reverse("admin:scoring_tier_change", args=[core.pk]),
        tier_post_data(core, first_response_minutes="60", change_reason="Core customers call back within an hour"),
    )
    response = admin_client.get(reverse("admin:scoring_tier_history", args=[core.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Core customers call back within an hour" in content
    assert "First response (minutes):</strong>" in content and "120" in content and "60" in content
    assert ">admin<" in content


def test_threshold_view_simulates_then_saves(admin_client):
    CustomerFactory()
    url = reverse("admin:scoring_tier_thresholds")
    data = {"vip": "92", "core": "80", "potential": "60", "ordinary": "45", "dormant": "0"}
    response = admin_client.post(url, {**data, "_simulate": "1"})
    assert response.status_code == 200 and 'id="tier-matrix"' in response.content.decode()
    assert Tier.objects.get(code="vip").min_score == Decimal("90")

    response = admin_client.post(url, {**data, "core": "95", "_simulate": "1"})
    assert "must fall strictly" in response.content.decode()

    response = admin_client.post(url, {**data, "_save": "1"})
    assert response.status_code == 200
    assert "Give a reason for this change" in response.content.decode()
    assert Tier.objects.get(code="vip").min_score == Decimal("90")

    response = admin_client.post(url, {**data, "_save": "1", "change_reason": "Fewer, better VIPs"})
    assert response.status_code == 302
    vip = Tier.objects.get(code="vip")
    assert vip.min_score == Decimal("92")
    assert vip.history.latest().history_change_reason == "Fewer, better VIPs"


def test_saving_thresholds_without_a_reason_still_checks_their_order(admin_client):
    data = {"vip": "92", "core": "95", "potential": "60", "ordinary": "45", "dormant": "0", "_save": "1"}
    content = admin_client.post(reverse("admin:scoring_tier_thresholds"), data).content.decode()
    assert "Give a reason for this change" in content and "must fall strictly" in content
    assert Tier.objects.get(code="vip").min_score == Decimal("90")


def test_calibration_view_suggests_and_applies(admin_client):
    CustomerFactory()
    url = reverse("admin:scoring_tier_calibrate")
    response = admin_client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="calibrate-form"' in content and 'id="tier-distribution"' in content

    assert 'name="as_of"' in content and 'name="change_reason"' in content

    suggested = response.context["initial"]
    response = admin_client.post(
        url, {**{code: f"{value:.2f}" for code, value in suggested.items()}, "as_of": AS_OF.isoformat()}
    )
    assert response.status_code == 302
    vip = Tier.objects.get(code="vip")
    assert float(vip.min_score) == pytest.approx(suggested["vip"])
    assert vip.history.latest().history_change_reason == "Calibration to target shares as of 2026-09-30"


def test_a_calibration_and_a_hand_edit_are_told_apart_in_the_tier_history(admin_client):
    vip = Tier.objects.get(code="vip")
    thresholds = {"vip": "88", "core": "75", "potential": "60", "ordinary": "45", "dormant": "0"}
    admin_client.post(
        reverse("admin:scoring_tier_calibrate"),
        {**thresholds, "as_of": AS_OF.isoformat(), "change_reason": "after the Q3 import"},
    )
    admin_client.post(
        reverse("admin:scoring_tier_thresholds"),
        {**thresholds, "vip": "91", "_save": "1", "change_reason": "Board asked for a stricter VIP"},
    )

    reasons = list(vip.history.order_by("-history_date", "-history_id").values_list("history_change_reason", flat=True))
    assert reasons[:2] == [
        "Board asked for a stricter VIP",
        "Calibration to target shares as of 2026-09-30: after the Q3 import",
    ]
    content = admin_client.get(reverse("admin:scoring_tier_history", args=[vip.pk])).content.decode()
    assert "Calibration to target shares as of 2026-09-30: after the Q3 import" in content
    assert "Board asked for a stricter VIP" in content


def test_history_of_an_unknown_profile_is_not_found(admin_client, db):
    response = admin_client.get("/admin/scoring/scoringprofile/abc/history/")
    assert response.status_code == 404
