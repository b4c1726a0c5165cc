import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, Sum

from core.clock import local_today
from crm.models import Customer, CustomerCodeSequence, Interaction, Order, SatisfactionSurvey
from scoring.models import ScoringProfile
from scoring.selectors import customers_score

pytestmark = pytest.mark.django_db

# The demo's data is dated back from today in Shanghai. Ten seconds before its midnight (15:59:50
# UTC), a test on a running clock would seed on one day and check, or seed again, on the next.
NEAR_MIDNIGHT = datetime.datetime(2026, 11, 30, 23, 59, 50, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


def seed(**options):
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def snapshot():
    return {
        "customers": list(
            Customer.objects.order_by("code").values_list(
                "code", "name", "customer_type", "account_manager__username", "cooperation_since", "tax_id"
            )
        ),
        "orders": list(Order.objects.order_by("external_ref").values_list("external_ref", "amount", "ordered_at")),
        "surveys": SatisfactionSurvey.objects.count(),
        "interactions": list(Interaction.objects.values("kind").annotate(n=Count("id")).order_by("kind")),
    }


@time_machine.travel(NEAR_MIDNIGHT, tick=False)
def test_seed_creates_realistic_data_and_prints_logins():
    output = seed(customers=200, seed=7)
    for login in ("admin12345", "manager1", "manager2", "integration"):
        assert login in output
    assert Customer.objects.count() == 200
    assert {"b2b", "b2c"} == set(Customer.objects.values_list("customer_type", flat=True))
    assert Customer.objects.filter(industry__strategic=True).exists()
    assert Order.objects.count() > 200 * 4
    assert Interaction.objects.filter(kind="complaint").exists()
    assert Interaction.objects.filter(kind__in=["referral", "social_share"]).exists()
    assert SatisfactionSurvey.objects.exists()
    # Tier fields are left to the tier run.
    assert not Customer.objects.filter(tier__isnull=False).exists()
    assert not Customer.objects.filter(score__isnull=False).exists()


@time_machine.travel(NEAR_MIDNIGHT, tick=False)
def test_spend_is_long_tailed():
    seed(customers=300, seed=3)
    spend = sorted(
        (row["s"] or 0 for row in Customer.objects.annotate(s=Sum("orders__amount")).values("s")), reverse=True
    )
    top_tenth = sum(spend[: len(spend) // 10])
    assert top_tenth / sum(spend) > 0.4


@time_machine.travel(NEAR_MIDNIGHT, tick=False)
def test_managers_own_different_customers_and_logins_work(client):
    seed(customers=100, seed=1)
    User = get_user_model()
    manager1, manager2 = User.objects.get(username="manager1"), User.objects.get(username="manager2")
    mine = set(manager1.customers.values_list("id", flat=True))
    theirs = set(manager2.customers.values_list("id", flat=True))
    assert mine and theirs and not mine & theirs
    assert manager1.groups.filter(name="Account managers").exists()
    assert User.objects.get(username="admin").is_superuser
    assert client.login(username="manager1", password="manager12345")
    assert client.login(username="integration", password="integration12345")


@time_machine.travel(NEAR_MIDNIGHT, tick=False)
def test_codes_follow_industry_year_sequence():
    seed(customers=120, seed=5)
    for code, industry_code, since in Customer.objects.values_list("code", "industry__code", "cooperation_since"):
        assert code.startswith(industry_code)
        year = code[len(industry_code) : len(industry_code) + 4]
        assert since is None or int(year) == since.year


@time_machine.travel(NEAR_MIDNIGHT, tick=False)
def test_same_seed_gives_same_data():
    seed(customers=60, seed=11)
    first = snapshot()
    Customer.objects.all().delete()
    CustomerCodeSequence.objects.all().delete()
    seed(customers=60, seed=11)
    assert snapshot() == first


@time_machine.travel(NEAR_MIDNIGHT, tick=False)
def test_if_empty_does_not_seed_twice():
    seed(customers=10, seed=1)
    output = seed(customers=10, seed=1, if_empty=True)
    assert Customer.objects.count() == 10
    assert "admin12345" in output


@time_machine.travel(NEAR_MIDNIGHT, tick=False)
def test_orders_are_valid_for_the_ingest_rules():
    seed(customers=50, seed=9)
    assert not Order.objects.filter(amount__lte=0).exists()
    assert not SatisfactionSurvey.objects.filter(score__gt=5).exists()
    assert not SatisfactionSurvey.objects.filter(score__lt=1).exists()


@time_machine.travel(NEAR_MIDNIGHT, tick=False)
def test_demo_scores_consumers_with_their_own_profile_so_they_are_not_all_dormant(db):
    call_command("seed_demo", customers=300, seed=7, stdout=io.StringIO())
    profile = ScoringProfile.objects.get(customer_type="b2c")
    assert profile.rules.count() == 7
    scored = customers_score(Customer.objects.filter(customer_type="b2c"), local_today())
    assert set(scored.profile_ids.tolist()) == {profile.pk}
    tiers = [scored.tiers.specs[i].code for i in scored.tier_index]
    assert sum(code != "dormant" for code in tiers) > len(tiers) / 3


@time_machine.travel(datetime.datetime(2026, 11, 30, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")), tick=False)
def test_the_demo_history_recomputes_from_its_rule_books(django_capture_on_commit_callbacks):
    """`make run`'s demo, tiered at the start of the last three quarters as .ci/serve.sh does, then
    audited: every stored assignment is recomputed from its snapshot and its run's rule book."""
    seed(customers=300, seed=11)
    with django_capture_on_commit_callbacks(execute=True):
        for as_of in ("2026-04-01", "2026-07-01", "2026-10-01"):
            call_command("retier", "--as-of", as_of, stdout=io.StringIO())
    out = io.StringIO()
    call_command("verify_history", stdout=out)
    tiered = 3 * Customer.objects.filter(cooperation_since__isnull=False).count()  # runs leave prospects out
    assert out.getvalue().strip().endswith(f"{tiered} assignment(s) of 3 run(s): 0 mismatch(es).")
