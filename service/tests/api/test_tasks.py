"""/api/v1/tasks/: list, create, change (PATCH), complete and cancel follow-up tasks; an account
manager sees and changes only the tasks of their own customers (another's answers 404)."""

import datetime

import pytest

from crm.models import Interaction
from crm.tests.factories import CustomerFactory, UserFactory
from service.models import Task
from service.tests.factories import NOW, TaskFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/tasks/"
DAY = datetime.timedelta(days=1)


def new_task(code, **fields):
    return {"customer": code, "title": "Call about the renewal", "due_at": "2026-10-12T10:00:00+08:00", **fields}


def test_a_task_is_planned_for_the_account_manager(clock, admin_api, manager, customer):
    response = admin_api.post(URL, new_task(customer.code, contact_kind="call", priority=3), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    task = Task.objects.get()
    assert body["id"] == task.pk and body["owner"] == "manager" and task.owner == manager
    assert (body["customer"], body["status"], body["source"], body["contact_kind"], body["priority"]) == (
        customer.code,
        "open",
        "manual",
        "call",
        3,
    )
    assert body["due_at"].startswith("2026-10-12T10:00:00") and body["created_by"] == "admin"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"due_at": None}, "due_at"),
        ({"due_at": "soon"}, "due_at"),
        ({"due_at": "0001-01-01T00:00:00Z"}, "due_at"),
        ({"title": ""}, "title"),
        ({"priority": 9}, "priority"),
        ({"contact_kind": "fax"}, "contact_kind"),
        ({"owner": "admin"}, "owner"),  # a manager plans only for themself
        ({"owner": "nobody-such"}, "owner"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_refused_naming_the_field(clock, manager_api, customer, admin_user, fields, field):
    body = {key: value for key, value in new_task(customer.code, **fields).items() if value is not None}

    response = manager_api.post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert not Task.objects.exists()


def test_an_outsiders_customer_is_refused_naming_customer(clock, outsider_api, customer):
    response = outsider_api.post(URL, new_task(customer.code), format="json")
    assert response.status_code == 400 and "customer" in response.json()["error"]["fields"]
    assert not Task.objects.exists()


def test_the_outsider_gets_404_on_every_task_of_another_managers_customer(clock, outsider_api, customer):
    task = TaskFactory(customer=customer, contact_kind="call")
    detail = f"{URL}{task.pk}/"

    responses = [
        outsider_api.get(detail),
        outsider_api.patch(detail, {"title": "Mine now"}, format="json"),
        outsider_api.post(f"{detail}complete/", {}, format="json"),
        outsider_api.post(f"{detail}cancel/", {}, format="json"),
    ]

    assert [response.status_code for response in responses] == [404] * 4
    assert all(response.json()["error"]["code"] == "not_found" for response in responses)
    assert outsider_api.get(URL).json()["results"] == []
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN and task.title.startswith("Follow-up") and not Interaction.objects.exists()


def test_a_task_is_changed_with_patch(clock, manager_api, customer):
    task = TaskFactory(customer=customer)

    response = manager_api.patch(
        f"{URL}{task.pk}/", {"due_at": "2026-10-20T09:00:00+08:00", "priority": 4, "note": "Moved"}, format="json"
    )

    assert response.status_code == 200, response.json()
    task.refresh_from_db()
    assert task.priority == 4 and task.note == "Moved" and task.due_at.isoformat().startswith("2026-10-20T01:00:00")
    response = manager_api.patch(f"{URL}{task.pk}/", {"status": "done"}, format="json")
    assert response.status_code == 400 and "status" in response.json()["error"]["fields"]


def test_completing_records_the_activity_and_twice_is_a_conflict(clock, manager_api, customer):
    task = TaskFactory(customer=customer, contact_kind="call")
    complete = f"{URL}{task.pk}/complete/"

    response = manager_api.post(
        complete,
        {
            "note": "Renewal agreed",
            "occurred_at": "2026-10-11T09:30:00+08:00",
            "duration_minutes": 20,
            "outcome": "Yes",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    activity = Interaction.objects.get()
    assert response.json()["status"] == "done" and response.json()["activity"] == activity.pk
    assert (activity.kind, activity.duration_minutes, activity.outcome, activity.note) == (
        "call",
        20,
        "Yes",
        "Renewal agreed",
    )
    again = manager_api.post(complete, {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "task_closed"
    assert Interaction.objects.count() == 1


def test_a_completion_in_the_future_is_refused_naming_occurred_at(clock, manager_api, customer):
    task = TaskFactory(customer=customer, contact_kind="visit")
    response = manager_api.post(f"{URL}{task.pk}/complete/", {"occurred_at": (NOW + DAY).isoformat()}, format="json")
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == ["occurred_at"]
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN and not Interaction.objects.exists()


def test_cancelling(clock, manager_api, customer):
    task = TaskFactory(customer=customer)
    response = manager_api.post(f"{URL}{task.pk}/cancel/", {"note": "Not needed"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert response.json()["completion_note"] == "Not needed"
    assert manager_api.post(f"{URL}{task.pk}/cancel/", {}, format="json").status_code == 409


def test_tasks_are_filtered_by_owner_bucket_status_and_customer(clock, admin_api, manager, admin_user, customer):
    overdue = TaskFactory(customer=customer, due_at=NOW - DAY)
    today = TaskFactory(customer=customer, due_at=NOW + datetime.timedelta(hours=3))
    week = TaskFactory(customer=customer, due_at=NOW + 3 * DAY)
    later = TaskFactory(customer=customer, due_at=NOW + 30 * DAY)
    done = TaskFactory(customer=customer, due_at=NOW - 2 * DAY, status=Task.Status.DONE)
    mine = TaskFactory(customer=CustomerFactory(account_manager=admin_user), due_at=NOW - DAY)

    def ids(**query):
        response = admin_api.get(URL, query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [done.pk, overdue.pk, mine.pk, today.pk, week.pk, later.pk]  # soonest due first
    assert ids(ordering="-due_at")[0] == later.pk
    assert ids(owner="me") == [mine.pk]
    assert ids(owner="manager", bucket="overdue") == [overdue.pk]
    assert [ids(owner="manager", bucket=bucket) for bucket in ("today", "week", "later")] == [
        [today.pk],
        [week.pk],
        [later.pk],
    ]
    assert ids(status="done") == [done.pk]
    assert ids(customer=customer.code, status="open") == [overdue.pk, today.pk, week.pk, later.pk]
    response = admin_api.get(URL, {"bucket": "someday"})
    assert response.status_code == 400 and "bucket" in response.json()["error"]["fields"]


def test_a_manager_lists_only_the_tasks_of_their_own_customers(clock, manager_api, customer, outsider):
    own = TaskFactory(customer=customer)
    TaskFactory(customer=CustomerFactory(account_manager=outsider))
    assert [row["id"] for row in manager_api.get(URL).json()["results"]] == [own.pk]
    assert manager_api.get(f"{URL}{own.pk}/").json()["customer"] == customer.code


def test_pages_follow_the_cursor(clock, manager_api, customer):
    tasks = [TaskFactory(customer=customer, due_at=NOW + n * DAY) for n in range(5)]
    seen, url = [], f"{URL}?page_size=2"
    while url:
        body = manager_api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == [task.pk for task in tasks]
    tampered = manager_api.get(URL, {"cursor": "cD1ub3QtYS1kYXRl"})  # its position: "not-a-date"
    assert tampered.status_code == 400 and "cursor" in tampered.json()["error"]["fields"]


def test_who_may_call_it(clock, api_client_for, customer, client):
    assert client.get(URL).status_code in {401, 403}
    stranger = api_client_for(UserFactory(username="stranger"))
    assert stranger.get(URL).status_code == 403
    assert stranger.post(URL, new_task(customer.code), format="json").status_code == 403
