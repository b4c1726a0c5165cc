"""Walk every URL in the URLconf and every operation in the API schema as the outsider manager
(plain and with admin access) and as an anonymous visitor: none of them may get the manager's
customer data back. New URLs are covered without touching this file."""

import datetime
import json
import re
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from core.tests.clock import RUN_DAY
from crm.models import Customer, Order
from crm.tests.factories import CustomerFactory, InteractionFactory, OrderFactory, SurveyFactory, UserFactory
from scoring.models import Tier
from tiering.models import Notice, TierChange, TierRun
from tiering.services import tier_run_start
from tiering.tests.factories import NoticeFactory, TierChangeFactory, TierOverrideFactory

SECRET_NAME = "机密客户 Marker-QX9Z"
SECRET_NOTE = "note-marker-7R2K"
SECRET_REF = "REF-MARKER-5T1W"
SECRET_TAX_ID = "91310000MA1SECRET9"
SECRET_EMAIL = "ceo-marker@secret-customer.example"
# Pages anyone may open: logging in, resetting a password, switching language, the API's docs.
PUBLIC_PATHS = re.compile(
    r"^/(accounts/(login|logout|password_reset|reset)/|i18n/|api/(schema|docs)/|admin/(login|logout)/)"
)
SAFE_STATUSES = {301, 302, 400, 401, 403, 404, 405}


@pytest.fixture
def manager_world(manager, outsider, django_capture_on_commit_callbacks):
    """The manager's customer with everything that hangs off it, tiered by a real run."""
    secret = CustomerFactory(
        account_manager=manager,
        name=SECRET_NAME,
        cooperation_since=datetime.date(2020, 1, 1),
        potential_rating=10,
        tax_id=SECRET_TAX_ID,
        contact_email=SECRET_EMAIL,
        industry=__import__("crm.tests.factories", fromlist=["industry"]).industry("NEV"),
    )
    for n in range(24):
        OrderFactory(
            customer=secret,
            amount=Decimal("25000.00"),
            ordered_at=RUN_DAY - datetime.timedelta(days=14 * n + 5),
            external_ref=SECRET_REF if n == 0 else f"S{n}",
        )
    InteractionFactory(customer=secret, kind="complaint", note=SECRET_NOTE)
    SurveyFactory(customer=secret, score=Decimal("5.00"))
    CustomerFactory(account_manager=outsider, name="Outsider's own customer")
    with django_capture_on_commit_callbacks(execute=True):
        run = tier_run_start(as_of=RUN_DAY, trigger=TierRun.Trigger.MANUAL, started_by=manager)
    run.refresh_from_db()
    assert run.status == TierRun.Status.SUCCEEDED, run.error
    tiers = list(Tier.objects.order_by("rank"))
    TierOverrideFactory(customer=secret, tier=tiers[0], reason=f"chairs association {SECRET_NOTE}", created_by=None)
    change = TierChange.objects.filter(customer=secret).first() or TierChangeFactory(
        run=run, customer=secret, from_tier=tiers[-1], to_tier=tiers[0], score=Decimal("95")
    )
    notice = Notice.objects.filter(customer=secret).first() or NoticeFactory(change=change, recipient=manager)
    secret.refresh_from_db()
    return {"customer": secret, "run": run, "change": change, "notice": notice}


def _markers(world) -> list[str]:
    customer = world["customer"]
    return [customer.code, SECRET_NAME, "Marker-QX9Z", SECRET_NOTE, SECRET_REF, SECRET_TAX_ID, SECRET_EMAIL]


# --- turning the URLconf into concrete paths ---------------------------------------------------


def _leaf_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        piece = _pattern_text(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _leaf_patterns(entry, prefix + piece)
        elif isinstance(entry, URLPattern):
            yield prefix + piece, entry


def _pattern_text(pattern) -> str:
    return str(pattern).lstrip("^").removesuffix("$")


def _replace_groups(text: str, value_for) -> str:
    """Replace <conv:name>, (?P<name>...) and unnamed (...) groups (nested too) by concrete values."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            out.append(text[i + 1])
            i += 2
        elif text[i] == "(" and (not text.startswith("(?", i) or text.startswith("(?P<", i)):
            name = text[i + 4 : text.index(">", i)] if text.startswith("(?P<", i) else "object_id"
            depth, j = 0, i
            while j < len(text):
                if text[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            out.append(str(value_for(name, text)))
            i = j
        else:
            out.append(text[i])
            i += 1
    concrete = "".join(out)
    concrete = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(value_for(m.group(1), text)), concrete)
    concrete = re.sub(r"\(\?:[^)]*\)\??", "", concrete)  # optional non-capturing groups
    concrete = concrete.replace("/?", "/").replace("$", "")
    return "/" + concrete.lstrip("^/")


def _value_for(world):
    customer, run, notice = world["customer"], world["run"], world["notice"]
    order = Order.objects.filter(customer=customer).first()
    by_model = {
        "customer": customer.pk,
        "order": order.pk,
        "interaction": customer.interactions.first().pk,
        "satisfactionsurvey": customer.surveys.first().pk,
        "notice": notice.pk,
        "tierchange": world["change"].pk,
        "tieroverride": customer.tier_override.pk,
        "tierassignment": customer.tier_assignments.first().pk,
        "tierrun": run.pk,
    }

    def value_for(name: str, text: str):
        if name == "code" and "tiers" in text:
            return Tier.objects.order_by("rank").first().code
        if name == "code" and "industries" in text:
            return customer.industry.code
        if name == "code":
            return customer.code
        if name == "object_id":
            found = re.search(r"admin/\w+/(\w+)/", text)
            return by_model.get(found.group(1) if found else "customer", customer.pk)
        if name in {"pk", "id"}:
            for key, pk in (("run", run.pk), ("notice", notice.pk), ("order", order.pk)):
                if key in text:
                    return pk
            return customer.pk
        if name == "content_type_id":
            return ContentType.objects.get_for_model(Customer).pk
        if name == "app_label":
            return "crm"
        if name == "format":
            return "json"
        if name == "url":
            return "crm/customer/"
        if name in {"uidb64", "token"}:
            return "x"
        return customer.pk

    return value_for


def _all_paths(world) -> list[str]:
    value_for = _value_for(world)
    paths = set()
    for text, _entry in _leaf_patterns():
        if text.startswith("static/") or "<path:path>" in text:
            continue
        paths.add(_replace_groups(text, lambda name, _t, full=text: value_for(name, full)))
    return sorted(paths)


def _schema_operations(world) -> list[tuple[str, str]]:
    value_for = _value_for(world)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, methods in schema["paths"].items():
        concrete = re.sub(r"\{(\w+)\}", lambda m, p=path: str(value_for(m.group(1), p)), path)
        operations += [
            (method.upper(), concrete) for method in methods if method in {"get", "post", "patch", "put", "delete"}
        ]
    return sorted(operations)


# --- the walk ----------------------------------------------------------------------------------


def _leaks(response, markers) -> list[str]:
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content).decode(errors="replace")
    else:
        body = response.content.decode(errors="replace")
    try:
        body += json.dumps(json.loads(body), ensure_ascii=False)  # catch \\u-escaped names in JSON
    except ValueError:
        pass
    # A redirect to the login page (?next=) or a 404 page may echo the requested path: that is
    # not data coming back, so the path itself is taken out before looking for the markers.
    path = unquote(response.request["PATH_INFO"])
    body = body.replace(path, "").replace(path.replace("/", "\\/"), "")
    location = unquote(response.headers.get("Location", "")).replace(path, "")
    return [m for m in markers if m in body or m in location]


def _walk(client, world, *, requests, user=None):
    problems = []
    markers = _markers(world)
    for method, path in requests:
        if user is not None:
            client.force_login(user)  # a logout URL earlier in the walk must not end the walk as anonymous
        caller = getattr(client, method.lower())
        kwargs = {"content_type": "application/json", "data": "{}"} if method in {"POST", "PATCH", "PUT"} else {}
        response = caller(path, **kwargs)
        if response.status_code >= 500:
            problems.append(f"{method} {path}: {response.status_code}")
        leaked = _leaks(response, markers)
        if leaked:
            problems.append(f"{method} {path}: {response.status_code} shows {leaked}")
    return problems


def _requests(world):
    html = [(m, p) for p in _all_paths(world) for m in ("GET", "POST")]
    return html + _schema_operations(world)


@pytest.fixture
def outsider_staff(outsider):
    """The outsider with the admin open to them, as a manager working in Django admin would be."""
    outsider.is_staff = True
    outsider.save(update_fields=["is_staff"])
    return outsider


@pytest.mark.django_db
def test_walk_covers_the_whole_urlconf_and_api_schema(manager_world):
    paths = _all_paths(manager_world)
    operations = _schema_operations(manager_world)

    code = manager_world["customer"].code
    assert f"/customers/{code}/" in paths and f"/api/v1/customers/{code}/" in paths
    assert any(p.startswith("/admin/crm/customer/") and p.endswith("/change/") for p in paths)
    assert ("POST", "/api/v1/orders/") in operations and ("PATCH", f"/api/v1/customers/{code}/") in operations
    assert len(paths) > 40 and len(operations) > 10


@pytest.mark.django_db
def test_anonymous_visitor_gets_nothing(client, manager_world):
    problems = _walk(client, manager_world, requests=_requests(manager_world))

    for method, path in _requests(manager_world):
        if PUBLIC_PATHS.match(path):
            continue
        response = getattr(client, method.lower())(path)
        if response.status_code not in SAFE_STATUSES:
            problems.append(f"{method} {path}: anonymous got {response.status_code}")
        elif response.status_code in {301, 302} and "login" not in response.headers.get("Location", ""):
            problems.append(f"{method} {path}: redirects to {response.headers.get('Location')} instead of login")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
@pytest.mark.parametrize("with_admin", [False, True], ids=["outsider", "outsider-with-admin"])
def test_outsider_manager_never_sees_the_managers_customers(client, manager_world, outsider, with_admin):
    if with_admin:
        outsider.is_staff = True
        outsider.save(update_fields=["is_staff"])
    client.force_login(outsider)
    before = Customer.objects.values().get(pk=manager_world["customer"].pk)

    problems = _walk(client, manager_world, requests=_requests(manager_world), user=outsider)

    assert not problems, "\n".join(problems)
    assert Customer.objects.values().get(pk=manager_world["customer"].pk) == before


@pytest.mark.django_db
def test_integration_token_holder_without_the_group_sees_nothing(client, manager_world):
    """A signed-in user with no role (e.g. an integration whose group was removed) gets no customer data."""
    stranger = UserFactory(username="stranger")
    problems = _walk(client, manager_world, requests=_requests(manager_world), user=stranger)

    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_walk_would_catch_a_leak(client, manager_world, manager):
    """The walk is only worth something if it fails when data does come back."""
    manager.groups.add(Group.objects.get(name="Account managers"))

    problems = _walk(
        client, manager_world, requests=[("GET", f"/customers/{manager_world['customer'].code}/")], user=manager
    )

    assert problems
