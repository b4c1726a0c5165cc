"""A run freezes its rule book; letters, history and the run's own chunks read it, never today's rules."""

import datetime
from decimal import Decimal

import time_machine
from django.urls import reverse

from core.tests.clock import RUN_DAY
from crm.models import SatisfactionSurvey
from crm.tests.factories import OrderFactory
from scoring import services as scoring_services
from scoring.models import ScoreRule, ScoringProfile
from scoring.validation import RULE_FIELDS
from tiering import letters, services
from tiering.models import TierAssignment, TieringSettings, TierRun, TierRunPopulation
from tiering.tests.conftest import edit_rules_and_thresholds, rules_of, run_day, run_now

LATER = datetime.date(2027, 7, 1)


def test_a_run_stores_what_it_scores_with(strong):
    run = run_now(RUN_DAY)
    book = run.rulebook
    profile = ScoringProfile.objects.get(is_default=True)
    [stored] = [p for p in book["profiles"] if p["id"] == profile.pk]
    assert (stored["name"], stored["version"], stored["is_default"]) == (profile.name, profile.version, True)
    spend = next(rule for rule in stored["rules"] if rule["metric"] == "spend_12m")
    assert set(RULE_FIELDS) <= set(spend)
    assert (spend["weight"], spend["cap"], spend["normalisation"]) == ("30.00", "500000.0000", "linear")
    assert [(t["code"], t["rank"], t["min_score"]) for t in book["tiers"]][:2] == [
        ("vip", 1, "90.00"),
        ("core", 2, "75.00"),
    ]
    assert book["tiers"][0]["name_zh"] == "VIP客户" and book["tiers"][0]["name_en"] == "VIP"
    assert book["settings"]["grace_runs"] == 1 and book["settings"]["spend_up_percent"] == "30.00"
    assert run.metric_keys[0] == "spend_12m"


def test_a_run_scores_with_its_rule_book_even_when_rules_change_before_its_chunks(strong, admin_user):
    SatisfactionSurvey.objects.filter(customer=strong).update(score=Decimal("3.5"))  # 94.38: VIP at 90, not at 95
    with time_machine.travel(run_day(RUN_DAY)):
        run = services.tier_run_start(as_of=RUN_DAY, trigger="manual", enqueue=False)
        edit_rules_and_thresholds(admin_user)  # the chunks have not run yet
        run = services.tier_run_execute(run)
    assignment = TierAssignment.objects.get(run=run)
    # Today's threshold for the top tier is 95; the run's was 90.
    assert assignment.score == Decimal("94.38") and assignment.computed_tier.code == "vip"
    assert assignment.profile_version == run.rulebook["profiles"][0]["version"] == 1
    assert assignment.points["spend_12m"] == 30.0  # the run's weight, not today's 20


def _letter_and_history(client, customer) -> tuple[str, bytes]:
    html = letters.downgrade_letter_html(customer)
    response = client.get(f"/api/v1/customers/{customer.code}/history/")
    assert response.status_code == 200
    return html, response.content


def test_editing_weights_and_thresholds_leaves_a_runs_letter_and_history_byte_for_byte_unchanged(
    strong, admin_user, admin_api
):
    run_now(RUN_DAY)
    run_now(LATER)
    before_html, before_json = _letter_and_history(admin_api, strong)
    edit_rules_and_thresholds(admin_user)
    assert ScoreRule.objects.get(metric="spend_12m").weight == 20  # the edit took effect
    after_html, after_json = _letter_and_history(admin_api, strong)
    assert after_html == before_html
    assert after_json == before_json
    assert "VIP客户" in after_html and "白金客户" not in after_html
    rows = admin_api.get(f"/api/v1/customers/{strong.code}/history/").json()["results"]
    latest = rows[0]["explanation"]
    assert latest["rules"] == "run" and latest["threshold"] == 45.0
    assert {"metric": "spend_12m", "points": 10.5, "max_points": 30.0} in latest["rule_points"]
    assert latest["points_to_return"] == round(90 - rows[0]["score"], 2)


def test_runs_from_before_rule_books_say_they_use_todays_rules(strong, admin_api, admin_user, client):
    run_now(RUN_DAY)
    run_now(LATER)
    TierRun.objects.update(rulebook={})  # as the migration leaves runs from before it
    letter = letters.downgrade_letter(strong)
    assert not letter.rules_frozen
    assert "today's rules" in letters.downgrade_letter_html(_english(strong))
    rows = admin_api.get(f"/api/v1/customers/{strong.code}/history/").json()["results"]
    assert {row["explanation"]["rules"] for row in rows} == {"today"}
    run = TierRun.objects.order_by("-as_of").first()
    assert admin_api.get(f"/api/v1/tier-runs/{run.pk}/").json()["rulebook"] is None
    client.force_login(admin_user)
    page = client.get(reverse("admin:tiering_tierrun_change", args=[run.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "before rule books were kept" in page.content.decode()


def _english(customer):
    customer.language = "en"
    customer.save()
    return customer


def test_the_run_api_and_admin_show_the_rule_book(strong, admin_api, admin_user, client):
    run = run_now(RUN_DAY)
    body = admin_api.get(f"/api/v1/tier-runs/{run.pk}/").json()
    assert body["rulebook"] == run.rulebook
    assert body["metric_keys"] == run.metric_keys
    client.force_login(admin_user)
    page = client.get(
        reverse("admin:tiering_tierrun_change", args=[run.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "12-month spend" in page and "500000.0000" in page  # a rule, readable
    assert "VIP客户" in page and "90.00" in page  # a tier and its threshold
    assert "Downgrade after N runs below threshold" in page  # a setting, by its label


def test_percentile_rules_rank_against_the_population_frozen_at_the_start(manager, strong, weak, admin_user):
    profile = ScoringProfile.objects.get(is_default=True)
    rules = rules_of(profile)
    for rule in rules:
        if rule["metric"] == "spend_12m":
            rule.update(normalisation="percentile", floor=None, cap=None)
    scoring_services.profile_rules_update(profile=profile, rules=rules, changed_by=admin_user)
    with time_machine.travel(run_day(RUN_DAY)):
        run = services.tier_run_start(as_of=RUN_DAY, trigger="manual", enqueue=False)
        # Orders arriving before the chunks run change the live population, not the run's.
        OrderFactory(customer=weak, amount=Decimal("9000000"), ordered_at=datetime.date(2026, 9, 1))
        run = services.tier_run_execute(run)
    frozen = TierRunPopulation.objects.get(run=run, metric="spend_12m").values
    assert frozen == [0.0, 600000.0]  # the weak customer's spend was 0 at the start
    assert run.rulebook["profiles"][0]["rules"][0]["normalisation"] == "percentile"
    points = TierAssignment.objects.get(run=run, customer=strong).points
    assert points["spend_12m"] == 30.0  # at or above both frozen values; the live ones would give half


def test_a_runs_chunks_decide_grace_with_the_settings_of_its_start(strong):
    run_now(RUN_DAY)
    with time_machine.travel(run_day(LATER)):
        run = services.tier_run_start(as_of=LATER, trigger="manual", enqueue=False)
        TieringSettings.objects.filter(pk=1).update(grace_runs=3)  # would hold the downgrade
        run = services.tier_run_execute(run)
    assert run.rulebook["settings"]["grace_runs"] == 1
    assert TierAssignment.objects.get(run=run).tier.code != "vip"


def test_a_run_from_before_rule_books_resumed_after_the_upgrade_scores_with_todays_rules(strong):
    with time_machine.travel(run_day(RUN_DAY)):
        run = services.tier_run_start(as_of=RUN_DAY, trigger="manual", enqueue=False)
        TierRun.objects.filter(pk=run.pk).update(rulebook={})
        run = services.tier_run_execute(TierRun.objects.get(pk=run.pk))
    assert run.status == "succeeded" and TierAssignment.objects.get(run=run).computed_tier.code == "vip"
