"""Walk every URL in the URLconf and every operation in the API schema as the outsider manager
(plain and with admin access) and as an anonymous visitor: none of them may get the manager's
customer data back. New URLs are covered without touching this file."""

import datetime
import functools
import json
import re
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from typing import NamedTuple
from urllib.parse import unquote

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from commitments.models import Case, CaseReply
from commitments.services.cases import case_open
from core.tests.clock import RUN_DAY
from crm.models import Customer, Industry, Interaction, Order, SatisfactionSurvey
from crm.tests.factories import CustomerFactory, InteractionFactory, OrderFactory, SurveyFactory, UserFactory
from scoring.models import ScoreRule, ScoringProfile, Tier
from service.models import ContactPlan, ContactStatus, LetterDispatch, Task
from service.tests.factories import TaskFactory
from tiering.models import Notice, TierAssignment, TierChange, TierOverride, TierRun
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
    plain = CustomerFactory(account_manager=manager, name="The manager's customer without a manual tier")
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
    task = TaskFactory(customer=secret, title=f"Call about {SECRET_NOTE}", contact_kind="call")
    case = case_open(customer=secret, kind=Case.Kind.REQUEST, subject=f"Case about {SECRET_NOTE}")
    secret.refresh_from_db()
    return {
        "customer": secret,
        "run": run,
        "change": change,
        "notice": notice,
        "plain": plain,
        "task": task,
        "case": case,
    }


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
        "task": world["task"].pk,
        "case": world["case"].pk,
        "contactplan": ContactPlan.objects.order_by("pk").first().pk,
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
            for key, pk in (
                ("run", run.pk),
                ("notice", notice.pk),
                ("order", order.pk),
                ("score-profiles", ScoringProfile.objects.order_by("pk").first().pk),
                ("tasks", world["task"].pk),
                ("cases", world["case"].pk),
            ):
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


@functools.cache
def _schema() -> dict:
    """The API schema; generated once, since the URLconf never changes during a run."""
    return SchemaGenerator().get_schema(request=None, public=True)


def _schema_operations(world, schema: dict | None = None) -> list[tuple[str, str]]:
    return sorted((method, concrete) for method, concrete, _template, _operation in _schema_walk(world, schema))


def _schema_walk(world, schema: dict | None = None):
    """(method, concrete path, schema path, operation) for every operation of the API schema."""
    value_for = _value_for(world)
    for path, methods in (schema or _schema())["paths"].items():
        concrete = re.sub(r"\{(\w+)\}", lambda m, p=path: str(value_for(m.group(1), p)), path)
        for method, operation in methods.items():
            if method in {"get", "post", "patch", "put", "delete"}:
                yield method.upper(), concrete, path, operation


# --- real bodies for every write ---------------------------------------------------------------
# Each write is sent with a body that would succeed if the access checks were missing (the
# administrator's own requests prove it, see test_write_bodies_succeed_for_an_administrator), so a
# refusal can only come from the access rules, not from a body that was never valid.

WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
WALK_TEXT = "walk-write-9QJ"


class Body(NamedTuple):
    kind: str  # "json" or "form"
    data: object


def _profile_rules(profile: ScoringProfile) -> list[dict]:
    """The profile's rules as the API takes them back: the same rule set, saved again."""
    fields = ("id", "metric", "category", "weight", "normalisation", "floor", "cap", "bands", "direction")
    return [
        {**{field: getattr(rule, field) for field in fields}, "missing_value": rule.missing_value}
        for rule in ScoreRule.objects.filter(profile=profile).order_by("position", "pk")
    ]


def _api_bodies(world) -> dict[tuple[str, str], Callable[[], object]]:
    """A body per write operation, by (method, schema path): the ones without an example in the schema."""
    customer = world["customer"]
    lowest_tier = Tier.objects.order_by("-rank").first()
    profile = ScoringProfile.objects.order_by("pk").first()
    return {
        ("POST", "/api/v1/customers/"): lambda: {
            "name": f"New customer {WALK_TEXT}",
            "industry": customer.industry.code,
            "customer_type": "b2b",
            "account_manager": customer.account_manager.username,
        },
        ("PATCH", "/api/v1/customers/{code}/"): lambda: {"name": f"Renamed {WALK_TEXT}", "region": WALK_TEXT},
        ("POST", "/api/v1/customers/{code}/override/"): lambda: {"tier": lowest_tier.code, "reason": WALK_TEXT},
        ("DELETE", "/api/v1/customers/{code}/override/"): lambda: None,
        ("POST", "/api/v1/industries/"): lambda: {"code": "WLK", "name_zh": WALK_TEXT, "name_en": WALK_TEXT},
        ("PATCH", "/api/v1/industries/{code}/"): lambda: {"name_en": WALK_TEXT},
        ("PATCH", "/api/v1/score-profiles/{id}/"): lambda: {"rules": _profile_rules(profile), "reason": WALK_TEXT},
        ("POST", "/api/v1/tier-runs/"): lambda: {"as_of": RUN_DAY.isoformat(), "force": True},
        ("POST", "/api/v1/backtests/"): lambda: {"thresholds": {lowest_tier.code: 0}, "calibrate": True},
        ("PATCH", "/api/v1/tiers/{code}/"): lambda: {"name_en": WALK_TEXT[:32], "reason": WALK_TEXT},
    }


def _schema_example(operation: dict, customer: Customer) -> object | None:
    """The operation's first example, about the manager's customer ("customer": its code)."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    examples = list(content.get("examples", {}).values())
    if not examples:
        return None
    body = dict(examples[0]["value"])
    if "customer" in body:
        body["customer"] = customer.code
    if "external_ref" in body:
        body["external_ref"] = WALK_TEXT  # not one of the customer's orders yet
    return body


def _api_write_bodies(world, schema: dict | None = None) -> tuple[dict[tuple[str, str], Body], list[str]]:
    """Bodies by (method, concrete path), and the write operations that have none (a new one)."""
    table = _api_bodies(world)
    bodies, missing = {}, []
    for method, concrete, template, operation in _schema_walk(world, schema):
        if method not in WRITE_METHODS:
            continue
        if (method, template) in table:
            bodies[(method, concrete)] = Body("json", table[(method, template)]())
        elif (example := _schema_example(operation, world["customer"])) is not None:
            bodies[(method, concrete)] = Body("json", example)
        else:
            missing.append(f"{method} {template}")
    return bodies, missing


class _Forms(HTMLParser):
    """The fields of each POST form of a page, with the values a browser would submit."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            if (attributes.get("method") or "get").lower() == "post":
                self.forms.append((attributes.get("action") or "", []))
            else:
                self.forms.append(("<get>", []))
            return
        if not self.forms:
            return
        fields = self.forms[-1][1]
        kind = attributes.get("type", "text")
        if tag == "input" and kind == "submit" and attributes.get("name") == "_save":
            fields.append(("_save", attributes.get("value", "")))
        elif tag == "input" and attributes.get("name") and kind not in {"submit", "button", "file", "image"}:
            if kind in {"checkbox", "radio"} and "checked" not in attributes:
                return
            fields.append((attributes["name"], attributes.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select = attributes.get("name")
        elif tag == "option" and self._select and "selected" in attributes:
            fields.append((self._select, attributes.get("value", "")))
        elif tag == "textarea" and attributes.get("name"):
            self._textarea = attributes["name"]
            fields.append((self._textarea, ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea and self.forms:
            name, value = self.forms[-1][1][-1]
            self.forms[-1][1][-1] = (name, value.removeprefix("\n"))  # as browsers read a textarea
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            name, value = self.forms[-1][1][-1]
            self.forms[-1][1][-1] = (name, value + data)


def _form_on(admin: Client, page: str, action: str) -> dict[str, list[str]] | None:
    """The fields of the form on `page` that posts to `action`, as the administrator gets it."""
    response = admin.get(page)
    if response.status_code != 200 or "html" not in response.headers.get("Content-Type", ""):
        return None
    parser = _Forms()
    parser.feed(response.content.decode(errors="replace"))
    for form_action, fields in parser.forms:
        if form_action == action or (form_action == "" and page == action):  # "" posts to the page itself
            data: dict[str, list[str]] = {}
            for name, value in fields:
                data.setdefault(name, []).append(value)
            data.pop("csrfmiddlewaretoken", None)
            return data
    return None


def _admin_add_values(world) -> dict[str, dict[str, object]]:
    """What an administrator types into the add forms of rows about a customer (the customer: theirs)."""
    customer = world["customer"]
    day = (RUN_DAY - datetime.timedelta(days=3)).isoformat()
    return {
        "customer": {
            "name": WALK_TEXT,
            "industry": customer.industry.pk,
            "customer_type": "b2b",
            "status": "active",
            "account_manager": customer.account_manager.pk,
            "language": "zh-hans",
        },
        "industry": {"code": "WLK", "name_zh": WALK_TEXT, "name_en": WALK_TEXT},
        "interaction": {"customer": customer.pk, "kind": "complaint", "occurred_at": day, "note": WALK_TEXT},
        "task": {"customer": customer.pk, "title": WALK_TEXT, "due_at_0": day, "due_at_1": "10:00:00", "priority": "2"},
        "satisfactionsurvey": {"customer": customer.pk, "score": "1.00", "surveyed_at": day, "channel": "email"},
        "order": {
            "customer": customer.pk,
            "amount": "99.00",
            "ordered_at": day,
            "source": "erp",
            "external_ref": WALK_TEXT,
        },
        "tieroverride": {
            "customer": world["plain"].pk,  # the other customer has its manual tier already
            "tier": Tier.objects.order_by("-rank").first().pk,
            "reason": WALK_TEXT,
            "change_reason": WALK_TEXT,
        },
    }


def _html_write_bodies(world, paths: list[str], admin: Client) -> dict[tuple[str, str], Body]:
    """Form bodies for the pages' POSTs, from the form the administrator is shown, changed as a
    user would change it: the customer handed to the outsider, a notice acknowledged, a run
    started, an admin record edited, deleted or added about the customer."""
    notice = world["notice"]
    add_values = _admin_add_values(world)
    bodies = {}
    for path in paths:
        changes: dict[str, object]
        if re.fullmatch(r"/customers/[^/]+/edit/", path):
            page, changes = path.removesuffix("edit/"), {"account_manager": "outsider", "reason": WALK_TEXT}
        elif path == "/notices/acknowledge/":
            page, changes = "/notices/", {"notice": [notice.pk], "next": "/notices/"}
        elif path == "/runs/start/":
            page, changes = "/runs/", {"as_of": RUN_DAY.isoformat(), "force": "on"}
        elif re.fullmatch(r"/admin/\w+/\w+/\d+/change/", path):
            page, changes = path, {"_edit": True}
        elif re.fullmatch(r"/admin/\w+/\w+/\d+/delete/", path):
            page, changes = path, {"post": "yes", "change_reason": WALK_TEXT}
        elif (found := re.fullmatch(r"/admin/\w+/(\w+)/add/", path)) and found.group(1) in add_values:
            page, changes = path, {"_save": "Save", **add_values[found.group(1)]}
        else:
            continue
        data = _form_on(admin, page, path)
        if data is None:
            continue  # no such form even for the administrator: nothing to send
        if changes.pop("_edit", False):
            if "_save" not in data or not any(name in data for name in ADMIN_EDITS):
                continue  # a read-only page: no one can save it
            for name in ADMIN_EDITS:
                if name in data:
                    data[name] = [ADMIN_EDITS[name](data[name][0])]
        data.update({name: value if isinstance(value, list) else [value] for name, value in changes.items()})
        bodies[("POST", path)] = Body("form", data)
    return bodies


# How the walk edits a field of an admin change form, whichever model the form is for.
ADMIN_EDITS: dict[str, Callable[[str], str]] = {
    name: lambda value: f"{value} {WALK_TEXT}".strip()
    for name in ("name", "name_en", "note", "reason", "external_ref", "change_reason")
} | {"score": lambda value: "1.00" if value != "1.00" else "2.00"}


def _manager_data(world) -> dict[str, list]:
    """Everything the manager's customers are and have, and the shared settings that tier them:
    what no one but the manager (or an administrator) may change."""
    manager, secret = world["customer"].account_manager, world["customer"]
    customers = Customer.objects.filter(Q(account_manager=manager) | Q(pk=secret.pk))
    ids = list(customers.values_list("pk", flat=True))
    about = {"customer_id__in": ids}
    return {
        "customers": list(customers.order_by("pk").values()),
        "orders": list(Order.objects.filter(**about).order_by("pk").values()),
        "interactions": list(Interaction.objects.filter(**about).order_by("pk").values()),
        "surveys": list(SatisfactionSurvey.objects.filter(**about).order_by("pk").values()),
        "overrides": list(TierOverride.objects.filter(**about).order_by("pk").values()),
        "notices": list(Notice.objects.filter(**about).order_by("pk").values()),
        "assignments": list(TierAssignment.objects.filter(**about).order_by("pk").values_list("pk", flat=True)),
        "changes": list(TierChange.objects.filter(**about).order_by("pk").values_list("pk", flat=True)),
        "runs": list(TierRun.objects.order_by("pk").values_list("pk", "status")),
        "tiers": list(Tier.objects.order_by("pk").values()),
        "industries": list(Industry.objects.order_by("pk").values()),
        "profiles": list(ScoringProfile.objects.order_by("pk").values()),
        "tasks": list(Task.objects.filter(**about).order_by("pk").values()),
        "contact_statuses": list(ContactStatus.objects.filter(**about).order_by("pk").values()),
        "letters": list(LetterDispatch.objects.filter(**about).order_by("pk").values()),
        "contact_plans": list(ContactPlan.objects.order_by("pk").values()),
        "cases": list(Case.objects.filter(**about).order_by("pk").values()),
        "case_replies": list(CaseReply.objects.filter(case__customer_id__in=ids).order_by("pk").values()),
    }


def _changed(before: dict[str, list], after: dict[str, list]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


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
    """Every request as `user`: no 5xx, no marker of the manager's customer in any answer, and no
    write that succeeds: no 2xx to a write about the manager's customer, nothing of the manager's
    data (or the shared tier settings) changed by any write."""
    problems = []
    markers = _markers(world)
    code = world["customer"].code
    for method, path, body in requests:
        if user is not None:
            client.force_login(user)  # a logout URL earlier in the walk must not end the walk as anonymous
        before = _manager_data(world) if method in WRITE_METHODS else None
        response = _send(client, method, path, body)
        if response.status_code >= 500:
            problems.append(f"{method} {path}: {response.status_code}")
        sent = json.dumps(body.data if body else None, default=str, ensure_ascii=False)
        # An error may name what the caller sent (an unknown customer code): not data coming back.
        leaked = _leaks(response, [m for m in markers if m not in sent])
        if leaked:
            problems.append(f"{method} {path}: {response.status_code} shows {leaked}")
        if before is None:
            continue
        about_customer = code in path or code in sent
        if about_customer and 200 <= response.status_code < 300 and path.startswith("/api/"):
            problems.append(f"{method} {path}: {response.status_code}, a write about another manager's customer")
        changed = _changed(before, _manager_data(world))
        if changed:
            problems.append(f"{method} {path}: {response.status_code} changed the manager's {', '.join(changed)}")
    return problems


def _send(client, method: str, path: str, body: Body | None):
    caller = getattr(client, method.lower())
    if body is None:
        if method in {"POST", "PATCH", "PUT"}:
            return caller(path, content_type="application/json", data="{}")
        return caller(path)
    if body.kind == "form":
        return caller(path, body.data)
    if body.data is None:
        return caller(path)
    return caller(path, content_type="application/json", data=json.dumps(body.data, default=str))


def _requests(world, bodies: dict[tuple[str, str], Body]) -> list[tuple[str, str, Body | None]]:
    html = [(m, p) for p in _all_paths(world) for m in ("GET", "POST")]
    return [(method, path, bodies.get((method, path))) for method, path in html + _schema_operations(world)]


@pytest.fixture
def write_bodies(manager_world, admin_user) -> dict[tuple[str, str], Body]:
    """A real body for every write of the walk: the API's from the schema, the pages' from their
    forms as an administrator sees them."""
    admin = Client()
    admin.force_login(admin_user)
    api, missing = _api_write_bodies(manager_world)
    assert not missing, f"add a body to _api_bodies for the new write operation(s) {missing}"
    return {**api, **_html_write_bodies(manager_world, _all_paths(manager_world), admin)}


@pytest.fixture
def outsider_staff(outsider):
    """The outsider with the admin open to them, as a manager working in Django admin would be."""
    outsider.is_staff = True
    outsider.save(update_fields=["is_staff"])
    return outsider


@pytest.mark.django_db
def test_walk_covers_the_whole_urlconf_and_api_schema(manager_world, write_bodies):
    paths = _all_paths(manager_world)
    operations = _schema_operations(manager_world)

    code = manager_world["customer"].code
    assert f"/customers/{code}/" in paths and f"/api/v1/customers/{code}/" in paths
    assert any(p.startswith("/admin/crm/customer/") and p.endswith("/change/") for p in paths)
    assert ("POST", "/api/v1/orders/") in operations and ("PATCH", f"/api/v1/customers/{code}/") in operations
    assert len(paths) > 40 and len(operations) > 10
    # Every write operation of the API has a real body, and so do the pages' forms.
    writes = [(method, path) for method, path in operations if method in WRITE_METHODS]
    assert writes and all(write in write_bodies for write in writes)
    assert write_bodies[("POST", "/api/v1/orders/")].data["customer"] == code
    for page in (f"/customers/{code}/edit/", "/notices/acknowledge/", "/runs/start/", "/admin/crm/interaction/add/"):
        assert ("POST", page) in write_bodies, page


# Admin pages of the rows about customers, and of the shared settings that tier them.
ADMIN_OF_MANAGER_DATA = re.compile(
    r"/admin/(crm/(customer|order|interaction|satisfactionsurvey|industry)"
    r"|tiering/(notice|tieroverride|tierassignment|tierchange)|scoring/(tier|scoringprofile)"
    r"|service/(task|contactplan))/"
)


# Writes that by design change nobody's data: a backtest stores only its own report
# (scoring/tests/test_backtest_services.py counts every table). The outsider's walk still sends them.
WRITES_OF_REPORTS_ONLY = {"/api/v1/backtests/"}


def _about_the_manager(world, write_bodies) -> list[tuple[str, str, Body]]:
    """The writes that would change the manager's data (or the shared settings), with their bodies."""
    code = world["customer"].code
    return sorted(
        (method, path, body)
        for (method, path), body in write_bodies.items()
        if path not in WRITES_OF_REPORTS_ONLY
        and (
            code in path
            or code in json.dumps(body.data, default=str)
            or ADMIN_OF_MANAGER_DATA.match(path)
            or path in {"/notices/acknowledge/", "/runs/start/"}
            or path.startswith("/api/")
        )
    )


@pytest.mark.django_db
def test_write_bodies_succeed_for_an_administrator(client, manager_world, write_bodies, admin_user):
    """The bodies are real: sent by an administrator, the writes about the manager's customer go
    through. So when the outsider's same request is refused, the access rules refused it."""
    client.force_login(admin_user)
    refused = []
    writes = _about_the_manager(manager_world, write_bodies)
    for method, path, body in writes:
        before = _manager_data(manager_world)
        with transaction.atomic():
            response = _send(client, method, path, body)
            changed = _changed(before, _manager_data(manager_world))
            transaction.set_rollback(True)
        if not (changed and response.status_code < 400):
            refused.append(f"{method} {path}: {response.status_code}, changed {changed}")
    assert len(writes) > 15
    assert not refused, "\n".join(refused)


@pytest.mark.django_db
def test_anonymous_visitor_gets_nothing(client, manager_world, write_bodies):
    requests = _requests(manager_world, write_bodies)
    problems = _walk(client, manager_world, requests=requests)

    for method, path, body in requests:
        if PUBLIC_PATHS.match(path):
            continue
        response = _send(client, method, path, body)
        if response.status_code not in SAFE_STATUSES:
            problems.append(f"{method} {path}: anonymous got {response.status_code}")
        elif response.status_code in {301, 302} and "login" not in response.headers.get("Location", ""):
            problems.append(f"{method} {path}: redirects to {response.headers.get('Location')} instead of login")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
@pytest.mark.parametrize("with_admin", [False, True], ids=["outsider", "outsider-with-admin"])
def test_outsider_manager_never_sees_the_managers_customers(client, manager_world, write_bodies, outsider, with_admin):
    if with_admin:
        outsider.is_staff = True
        outsider.save(update_fields=["is_staff"])
    client.force_login(outsider)
    before = _manager_data(manager_world)

    problems = _walk(client, manager_world, requests=_requests(manager_world, write_bodies), user=outsider)

    assert not problems, "\n".join(problems)
    assert _manager_data(manager_world) == before


@pytest.mark.django_db
def test_integration_token_holder_without_the_group_sees_nothing(client, manager_world, write_bodies):
    """A signed-in user with no role (e.g. an integration whose group was removed) gets no customer data."""
    stranger = UserFactory(username="stranger")
    problems = _walk(client, manager_world, requests=_requests(manager_world, write_bodies), user=stranger)

    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_walk_would_catch_a_leak(client, manager_world, manager):
    """The walk is only worth something if it fails when data does come back."""
    manager.groups.add(Group.objects.get(name="Account managers"))

    problems = _walk(
        client, manager_world, requests=[("GET", f"/customers/{manager_world['customer'].code}/", None)], user=manager
    )

    assert problems


@pytest.mark.django_db
def test_walk_would_catch_a_write(client, manager_world, write_bodies, admin_user):
    """...and when a write about the manager's customer goes through: here an administrator's, as a
    missing access check would let the outsider's through."""
    code = manager_world["customer"].code
    patch = ("PATCH", f"/api/v1/customers/{code}/")
    edit = ("POST", f"/customers/{code}/edit/")

    problems = _walk(
        client, manager_world, requests=[(*patch, write_bodies[patch]), (*edit, write_bodies[edit])], user=admin_user
    )

    assert f"PATCH /api/v1/customers/{code}/: 200, a write about another manager's customer" in problems
    assert f"PATCH /api/v1/customers/{code}/: 200 changed the manager's customers" in problems
    assert f"POST /customers/{code}/edit/: 302 changed the manager's customers" in problems
