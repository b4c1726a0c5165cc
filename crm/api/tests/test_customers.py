import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission

from crm.models import Customer, Order
from crm.tests.factories import CustomerFactory, OrderFactory, UserFactory
from scoring.models import Tier
from tiering.tests.conftest import run_now, strong_customer, weak_customer
from tiering.tests.factories import TierAssignmentFactory, TierOverrideFactory, TierRunFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/customers/"


def test_manager_lists_only_own_customers(manager_api, customer, outsider):
    CustomerFactory(account_manager=outsider)
    response = manager_api.get(URL)
    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == [customer.code]


def test_integration_token_lists_every_customer(integration_api, customer, outsider):
    other = CustomerFactory(account_manager=outsider)
    codes = {row["code"] for row in integration_api.get(URL).json()["results"]}
    assert codes == {customer.code, other.code}


def test_outsider_gets_404_for_another_managers_customer(outsider_api, customer):
    for path in ("", "score/", "history/"):
        response = outsider_api.get(f"{URL}{customer.code}/{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    response = outsider_api.patch(f"{URL}{customer.code}/", {"region": "华南"}, format="json")
    assert response.status_code == 404


def test_unknown_code_is_404(admin_api):
    assert admin_api.get(f"{URL}NOPE2026001/").status_code == 404


def test_anonymous_gets_401_with_error_body(client, customer):
    response = client.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_detail_shows_tier_override_and_service_level(admin_api, admin_user, customer):
    vip = Tier.objects.get(code="vip")
    Customer.objects.filter(pk=customer.pk).update(
        tier=vip, score=Decimal("91.50"), lifecycle="mature", flags=["spend_up"]
    )
    TierOverrideFactory(
        customer=customer,
        tier=vip,
        reason="Chairs the trade association",
        expires_on=datetime.date(2027, 1, 1),
        created_by=admin_user,
    )
    body = admin_api.get(f"{URL}{customer.code}/").json()
    assert body["tier"] == "vip"
    assert body["score"] == 91.5
    assert body["lifecycle"] == "mature"
    assert body["flags"] == ["spend_up"]
    assert body["tier_override"]["reason"] == "Chairs the trade association"
    assert body["tier_override"]["expires"] == "2027-01-01"
    assert body["service_level"]["first_response_minutes"] == vip.first_response_minutes


def test_sensitive_fields_are_masked_without_permission(manager_api, manager, customer):
    customer.tax_id = "91310000MA1234"
    customer.save()
    assert manager_api.get(f"{URL}{customer.code}/").json()["tax_id"] == "**********1234"
    manager.user_permissions.add(Permission.objects.get(codename="view_sensitive_fields"))
    from crm.tests.api_clients import client_for

    assert client_for(manager).get(f"{URL}{customer.code}/").json()["tax_id"] == "91310000MA1234"


def test_filters_search_and_tier(admin_api, manager):
    vip = Tier.objects.get(code="vip")
    alpha = CustomerFactory(name="Alpha Motors", account_manager=manager, region="华南")
    beta = CustomerFactory(name="Beta Foods", account_manager=manager)
    Customer.objects.filter(pk=alpha.pk).update(tier=vip, score=Decimal("95"), flags=["complaints"])

    def codes(**params):
        response = admin_api.get(URL, params)
        assert response.status_code == 200, response.json()
        return [row["code"] for row in response.json()["results"]]

    assert codes(search="alpha") == [alpha.code]
    assert codes(search=beta.code.lower()) == [beta.code]
    assert codes(tier="vip") == [alpha.code]
    assert codes(flagged="true") == [alpha.code]
    assert codes(flagged="false") == [beta.code]
    assert codes(score_min="90") == [alpha.code]
    assert codes(region="华南") == [alpha.code]
    assert codes(account_manager="manager") == [alpha.code, beta.code]


def test_bad_filter_value_names_the_field(admin_api):
    response = admin_api.get(URL, {"tier": "platinum", "score_min": "abc"})
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) >= {"tier", "score_min"}


def test_ordering_by_score_pages_through_everyone_once(admin_api, manager):
    customers = [CustomerFactory(account_manager=manager) for _ in range(7)]
    for index, c in enumerate(customers[:5]):
        Customer.objects.filter(pk=c.pk).update(score=Decimal(50 + index % 2))  # ties on purpose
    seen, url = [], f"{URL}?ordering=-score&page_size=2"
    while url:
        body = admin_api.get(url).json()
        seen.extend(row["code"] for row in body["results"])
        url = body["next"]
    assert sorted(seen) == sorted(c.code for c in customers)
    assert len(seen) == len(set(seen))
    scores = [Customer.objects.get(code=code).score for code in seen]
    assert scores[:2] == [Decimal(51), Decimal(51)] and scores[-2:] == [None, None]


def test_ordering_by_name_pages_through_in_pinyin_order(admin_api, manager):
    """北京 (bei), 重庆 (chong), 广州 (guang), 上海 (shang), 深圳 (shen): the database sorts, and each
    page's cursor continues after the last name in the same order, a namesake included once."""
    for name in ("深圳", "上海", "广州", "北京", "重庆", "广州"):
        CustomerFactory(account_manager=manager, name=name)
    for ordering, expected in (
        ("name", ["北京", "重庆", "广州", "广州", "上海", "深圳"]),
        ("-name", ["深圳", "上海", "广州", "广州", "重庆", "北京"]),
    ):
        seen, url = [], f"{URL}?ordering={ordering}&page_size=2"
        while url:
            body = admin_api.get(url).json()
            seen.extend((row["name"], row["code"]) for row in body["results"])
            url = body["next"]
        assert [name for name, _code in seen] == expected
        assert len({code for _name, code in seen}) == 6


def test_unknown_ordering_is_400(admin_api):
    response = admin_api.get(URL, {"ordering": "region"})
    assert response.status_code == 400
    assert "ordering" in response.json()["error"]["fields"]


def test_list_runs_a_constant_number_of_queries(admin_api, manager, admin_user, django_assert_max_num_queries):
    vip = Tier.objects.get(code="vip")
    for _ in range(30):
        c = CustomerFactory(account_manager=manager)
        Customer.objects.filter(pk=c.pk).update(tier=vip, computed_tier=vip)
        TierOverrideFactory(customer=c, tier=vip, reason="r", created_by=admin_user)
    # the page, then its industries, tiers, computed tiers, managers, overrides and their tiers and authors
    with django_assert_max_num_queries(11):
        response = admin_api.get(URL, {"page_size": 30})
    assert len(response.json()["results"]) == 30


@time_machine.travel(datetime.datetime(2026, 11, 22, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_create_answers_with_generated_code(integration_api, manager):
    payload = {
        "name": "华东新能源有限公司",
        "industry": "MFG",
        "customer_type": "b2b",
        "region": "华东",
        "account_manager": "manager",
        "cooperation_since": "2024-03-01",
        "contact_person": "王芳",
        "potential_rating": 7,
        "tax_id": "91310000MA1FL8XQ3K",
    }
    response = integration_api.post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["code"].startswith("MFG2026")
    assert body["account_manager"] == "manager"
    assert Customer.objects.get(code=body["code"]).tax_id == "91310000MA1FL8XQ3K"


def test_create_rejects_unknown_fields_and_bad_values(integration_api):
    payload = {"name": "X", "industry": "ZZZ", "customer_type": "b2x", "colour": "red", "potential_rating": 11}
    response = integration_api.post(URL, payload, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"customer_type", "potential_rating"} <= set(fields)
    assert Customer.objects.count() == 0


def test_create_unknown_industry_names_the_field(integration_api):
    response = integration_api.post(URL, {"name": "X", "industry": "ZZZ", "customer_type": "b2b"}, format="json")
    assert response.status_code == 400
    assert "industry" in response.json()["error"]["fields"]


def test_create_rejects_unknown_field(integration_api):
    payload = {"name": "X", "industry": "MFG", "customer_type": "b2b", "tier": "vip"}
    response = integration_api.post(URL, payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["tier"]


def test_manager_may_not_create_customers(manager_api):
    response = manager_api.post(URL, {"name": "X", "industry": "MFG", "customer_type": "b2b"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_manager_patches_own_customer_but_cannot_reassign(manager_api, customer):
    response = manager_api.patch(
        f"{URL}{customer.code}/",
        {"region": "华南", "potential_rating": 8, "reason": "Opened a plant for battery packs"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["region"] == "华南"
    response = manager_api.patch(f"{URL}{customer.code}/", {"account_manager": "outsider"}, format="json")
    assert response.status_code == 400
    assert "account_manager" in response.json()["error"]["fields"]


def test_patch_cannot_change_code(admin_api, customer):
    response = admin_api.patch(f"{URL}{customer.code}/", {"code": "EDU2026999"}, format="json")
    assert response.status_code == 400
    assert "code" in response.json()["error"]["fields"]


def test_orders_count_is_not_changed_by_reads(admin_api, customer):
    OrderFactory(customer=customer)
    admin_api.get(f"{URL}{customer.code}/")
    assert Order.objects.count() == 1


def test_creator_without_view_all_still_gets_the_created_record(api_client_for, manager):
    creator = UserFactory(username="clerk")
    creator.user_permissions.add(Permission.objects.get(codename="add_customer"))
    payload = {"name": "Gamma", "industry": "EDU", "customer_type": "b2c", "account_manager": "manager"}
    response = api_client_for(creator).post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["code"].startswith("EDU")


# --- scoring inputs are governed; the detail says what date its figures are from -------------------


@pytest.fixture
def tier_admin_api(api_client_for):
    user = UserFactory(username="tieradmin", is_staff=True)
    user.groups.add(Group.objects.get(name="Tier administrators"))
    return api_client_for(user)


@pytest.mark.parametrize(
    "field, value",
    [
        ("industry", "EDU"),
        ("customer_type", "b2c"),
        ("cooperation_since", "2020-01-01"),
        ("account_manager", "outsider"),
    ],
)
def test_patching_a_scoring_input_is_403_naming_the_field_unless_a_tier_administrator(
    manager_api, integration_api, tier_admin_api, customer, outsider, field, value
):
    for api in (manager_api, integration_api):
        response = api.patch(f"{URL}{customer.code}/", {field: value, "reason": "asked"}, format="json")
        assert response.status_code == 403, response.json()
        body = response.json()["error"]
        assert body["code"] == "permission_denied" and list(body["fields"]) == [field]
    response = tier_admin_api.patch(f"{URL}{customer.code}/", {field: value}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()[field] == value


def test_a_potential_rating_without_a_reason_is_400_naming_the_field(manager_api, customer):
    response = manager_api.patch(f"{URL}{customer.code}/", {"potential_rating": 6}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["potential_rating"]
    assert Customer.objects.get(pk=customer.pk).potential_rating is None

    response = manager_api.patch(
        f"{URL}{customer.code}/", {"potential_rating": 6, "reason": "New plant in Hefei"}, format="json"
    )
    assert response.status_code == 200
    record = Customer.history.filter(id=customer.pk).first()
    assert (record.potential_rating, record.history_change_reason, record.history_user.username) == (
        6,
        "New plant in Hefei",
        "manager",
    )


def test_detail_says_which_run_and_day_its_figures_are_from(admin_api, customer):
    older = TierRunFactory(period="2026-Q3", as_of=datetime.date(2026, 7, 1))
    latest = TierRunFactory(period="2026-Q4", as_of=datetime.date(2026, 10, 1))
    for run in (older, latest):
        TierAssignmentFactory(
            run=run, customer=customer, score=Decimal("70.00"), computed_tier=Tier.objects.get(code="core")
        )
    Customer.objects.filter(pk=customer.pk).update(figures_as_of=datetime.date(2026, 11, 30))

    body = admin_api.get(f"{URL}{customer.code}/").json()

    assert body["tier_run"] == {"period": "2026-Q4", "as_of": "2026-10-01"}
    assert body["figures_as_of"] == "2026-11-30"
    listed = admin_api.get(URL).json()["results"][0]
    assert listed["figures_as_of"] == "2026-11-30"


def test_detail_of_a_customer_never_tiered_has_no_run_and_no_figures_date(admin_api, customer):
    body = admin_api.get(f"{URL}{customer.code}/").json()
    assert body["tier_run"] is None and body["figures_as_of"] is None


# --- updated_since finds edits of the record, not tier runs ---------------------------------------


def test_updated_since_after_a_tier_run_lists_only_the_customers_edited_after_it(manager_api, manager):
    with time_machine.travel(datetime.datetime(2026, 11, 20, 10, tzinfo=datetime.UTC), tick=False):
        edited, strong, weak = strong_customer(manager), strong_customer(manager), weak_customer(manager)
    cutoff = "2026-11-25T00:00:00Z"
    with time_machine.travel(datetime.datetime(2026, 11, 26, 10, tzinfo=datetime.UTC), tick=False):
        response = manager_api.patch(f"{URL}{edited.code}/", {"region": "华南"}, format="json")
        assert response.status_code == 200, response.json()
    run = run_now(datetime.date(2026, 12, 1))  # 02:00 on 1 December in Shanghai: after the cut-off and the edit

    # The run wrote every customer's standing (tier, score, when tiered) and left updated_at alone.
    assert run.status == "succeeded"
    stamped = Customer.objects.filter(
        pk__in=[edited.pk, strong.pk, weak.pk], tier__isnull=False, tiered_at__isnull=False
    )
    assert stamped.count() == 3
    response = manager_api.get(URL, {"updated_since": cutoff})
    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == [edited.code]
    everyone = manager_api.get(URL, {"updated_since": "2026-11-20T10:00:00Z"}).json()["results"]
    assert {row["code"] for row in everyone} == {edited.code, strong.code, weak.code}
