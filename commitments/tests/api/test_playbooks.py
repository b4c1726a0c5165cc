"""/api/v1/playbooks/: the seeded playbooks and their steps, read-only."""

import pytest

from commitments.models import Playbook

pytestmark = pytest.mark.django_db


def test_a_manager_reads_the_playbooks_with_their_steps(manager_api, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = manager_api.get("/api/v1/playbooks/")
    assert response.status_code == 200
    playbooks = response.json()
    assert len(playbooks) == Playbook.objects.count() == 5
    welcome = next(p for p in playbooks if p["event"] == "upgraded_into")
    assert welcome["tier"] == "vip" and welcome["active"] is True
    assert welcome["steps"][0] == {
        "position": 1,
        "goal": "Keep the new VIP",
        "action": "Executive visit",
        "owner_role": "account_manager",
        "due_days": 14,
        "contact_kind": "visit",
        "kpi": "Repurchase rate",
    }
    one = manager_api.get(f"/api/v1/playbooks/{welcome['id']}/")
    assert one.status_code == 200 and one.json() == welcome


def test_filters_by_event_and_tier_and_refuses_writes(manager_api, admin_api):
    dormant = manager_api.get("/api/v1/playbooks/?tier=dormant").json()
    # The dormant tier's own playbook and those for any tier.
    assert {(p["tier"], p["event"]) for p in dormant} == {
        ("dormant", "became_dormant"),
        (None, "downgraded_into"),
        (None, "warning_spend_down"),
        (None, "warning_complaints"),
    }
    assert [p["event"] for p in manager_api.get("/api/v1/playbooks/?event=upgraded_into").json()] == ["upgraded_into"]
    assert manager_api.get("/api/v1/playbooks/?event=party").status_code == 400
    assert admin_api.post("/api/v1/playbooks/", {"name": "x"}, format="json").status_code == 405
    assert manager_api.get("/api/v1/playbooks/999999/").status_code == 404
