import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise

from core.tests.clock import RUN_DAY
from crm.models import Customer
from tiering import services
from tiering.models import (
    Notice,
    TierAssignment,
    TierChange,
    TieringSettings,
    TierOverride,
    TierRun,
    TierRunChunk,
)
from tiering.rulebook import SETTINGS_FIELDS
from tiering.tests.conftest import run_now

LATER = datetime.date(2027, 7, 1)


@pytest.fixture
def history(strong, weak):
    run_now(RUN_DAY)
    return run_now(LATER)


@pytest.mark.parametrize(
    "model", ["tierrun", "tierassignment", "tierchange", "notice", "tieroverride", "tieringsettings"]
)
def test_admin_pages_open(client, admin_user, history, model):
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:tiering_{model}_changelist")).status_code == 200


def test_every_label_of_the_history_pages_is_translatable():
    """Columns, filters and fields take these labels: each goes through gettext (the Chinese admin
    showed "Customer", "Created at", "Tier run chunks")."""
    for model in (TierRun, TierRunChunk, TierAssignment, TierChange, Notice, TierOverride):
        labels = [model._meta.verbose_name, model._meta.verbose_name_plural]
        labels += [field.verbose_name for field in model._meta.concrete_fields if not field.primary_key]
        assert [str(label) for label in labels if not isinstance(label, Promise)] == [], model.__name__


def test_the_history_pages_read_in_chinese(client, admin_user, history):
    client.force_login(admin_user)
    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    assignments = client.get(reverse("admin:tiering_tierassignment_changelist"), **chinese).content.decode()
    for header in ("客户", "分级运行", "得分", "计算等级", "创建时间"):  # customer, run, score, computed tier, created
        assert f">{header}</a>" in assignments
    assert ">Customer</a>" not in assignments and ">Created at</a>" not in assignments
    assert ">成熟期</a>" in assignments and ">mature</a>" not in assignments  # lifecycle filter by name
    notice = Notice.objects.first()
    page = client.get(reverse("admin:tiering_notice_change", args=[notice.pk]), **chinese).content.decode()
    assert "Notice object" not in page and "TierChange object" not in page
    with translation.override("zh-hans"):
        assert f"{notice.get_kind_display()} #{notice.pk}" in page  # its title names it in words


def test_run_page_shows_progress(client, admin_user, history):
    client.force_login(admin_user)
    page = client.get(reverse("admin:tiering_tierrun_changelist")).content.decode()
    assert "2/2 (100%)" in page
    assert client.get(reverse("admin:tiering_tierrun_change", args=[history.pk])).status_code == 200


def test_acknowledge_action_goes_through_the_service(client, admin_user, history):
    client.force_login(admin_user)
    notice = Notice.objects.get()
    client.post(reverse("admin:tiering_notice_changelist"), {"action": "acknowledge", "_selected_action": [notice.pk]})
    notice.refresh_from_db()
    assert notice.acknowledged_by == admin_user


def test_override_form_requires_a_reason_and_saves_through_the_service(client, admin_user, strong, tiers):
    client.force_login(admin_user)
    url = reverse("admin:tiering_tieroverride_add")
    with time_machine.travel(datetime.datetime(2026, 10, 10, 4, tzinfo=datetime.UTC)):
        response = client.post(url, {"customer": strong.pk, "tier": tiers["core"].pk, "reason": " ", "expires_on": ""})
        assert response.status_code == 200 and not TierOverride.objects.exists()
        client.post(url, {"customer": strong.pk, "tier": tiers["core"].pk, "reason": "Referrals", "expires_on": ""})
    strong.refresh_from_db()
    assert strong.tier == tiers["core"]
    assert TierOverride.objects.get().created_by == admin_user


def _delete_attempts(client, model: str, pk) -> tuple[int, int, int, bool]:
    """What a superuser gets trying to delete one row: the delete page, its confirmation, the
    changelist's bulk delete action posted as if confirmed, and whether the list offers that action."""
    delete = reverse(f"admin:tiering_{model}_delete", args=[pk])
    changelist = reverse(f"admin:tiering_{model}_changelist")
    page = client.get(delete).status_code
    confirmed = client.post(delete, {"post": "yes", "change_reason": "Tidying up"}).status_code
    bulk = client.post(changelist, {"action": "delete_selected", "_selected_action": [pk], "post": "yes"})
    offered = "delete_selected" in client.get(changelist).content.decode()
    return page, confirmed, bulk.status_code, offered


def test_settings_cannot_be_added_twice_or_deleted(client, admin_user, tiering_settings):
    client.force_login(admin_user)
    assert client.get(reverse("admin:tiering_tieringsettings_add")).status_code == 403

    page, confirmed, bulk, offered = _delete_attempts(client, "tieringsettings", tiering_settings.pk)

    assert list(TieringSettings.objects.values_list("pk", flat=True)) == [tiering_settings.pk]
    assert (page, confirmed) == (403, 403)
    assert bulk == 200 and not offered  # no action at all here: the POST only shows the list again


@pytest.mark.parametrize(
    "model, history_of, bulk_status",
    [
        # Runs have an action (resume), so an unknown one is "no action selected" and a redirect.
        ("tierrun", lambda run: TierRun.objects.filter(pk=run.pk), 302),
        ("tierassignment", lambda run: TierAssignment.objects.filter(run=run), 200),
        ("tierchange", lambda run: TierChange.objects.filter(run=run), 200),
    ],
)
def test_append_only_history_cannot_be_deleted_even_by_a_superuser(
    client, admin_user, history, model, history_of, bulk_status
):
    client.force_login(admin_user)
    rows = history_of(history)
    stored = sorted(rows.values_list("pk", flat=True))
    assert stored, "the fixture's second run must have written rows of this model"

    page, confirmed, bulk, offered = _delete_attempts(client, model, stored[0])

    assert sorted(rows.values_list("pk", flat=True)) == stored
    assert TierRun.objects.count() == 2
    assert (page, confirmed) == (403, 403)
    assert bulk == bulk_status and not offered


@pytest.fixture
def admin_en(client, admin_user):
    client.force_login(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _settings_form(settings, **changes) -> dict:
    fields = [*SETTINGS_FIELDS, "chunk_size"]
    return {**{name: getattr(settings, name) for name in fields}, **changes}


def test_settings_changes_need_a_reason_which_the_history_shows(admin_en, admin_user, tiering_settings):
    url = reverse("admin:tiering_tieringsettings_change", args=[tiering_settings.pk])
    response = admin_en.post(url, _settings_form(tiering_settings, grace_runs=2, change_reason=" "))
    assert response.status_code == 200 and "Say why this changes" in response.content.decode()
    assert TieringSettings.objects.get().grace_runs == 1
    admin_en.post(url, _settings_form(tiering_settings, grace_runs=2, change_reason="Q4 review: fewer flip-flops"))
    record = TieringSettings.history.latest()
    assert (record.grace_runs, record.history_user, record.history_change_reason) == (
        2,
        admin_user,
        "Q4 review: fewer flip-flops",
    )
    page = admin_en.get(reverse("admin:tiering_tieringsettings_history", args=[tiering_settings.pk])).content.decode()
    assert "Change reason" in page and "Q4 review: fewer flip-flops" in page and admin_user.username in page
    assert "&rarr;" in page  # before -> after, against the values the migration recorded


def test_the_override_form_picks_the_customer_by_code_or_name(admin_en, strong):
    page = admin_en.get(reverse("admin:tiering_tieroverride_add")).content.decode()
    assert "admin-autocomplete" in page
    found = admin_en.get(
        reverse("admin:autocomplete"),
        {"term": strong.code, "app_label": "tiering", "model_name": "tieroverride", "field_name": "customer"},
    ).json()
    assert [row["id"] for row in found["results"]] == [str(strong.pk)]


def test_override_messages_and_history_are_in_words_with_the_reason(admin_en, admin_user, strong, tiers):
    add = reverse("admin:tiering_tieroverride_add")
    with time_machine.travel(datetime.datetime(2026, 10, 10, 4, tzinfo=datetime.UTC)):
        response = admin_en.post(
            add, {"customer": strong.pk, "tier": tiers["core"].pk, "reason": "Chairs the association"}, follow=True
        )
    message = str(next(iter(response.context["messages"])))
    assert f"{strong.code} {strong.name} → Core" in message
    # No bare ids (a name ending in the same digits, "Customer 2981", is not one).
    assert not re.search(rf"(?<!\w){strong.pk} →", message)
    assert not re.search(rf"→ {tiers['core'].pk}(?!\w)", message)
    override = TierOverride.objects.get()
    assert override.history.latest().history_change_reason == "Chairs the association"

    change = reverse("admin:tiering_tieroverride_change", args=[override.pk])
    with time_machine.travel(datetime.datetime(2026, 10, 11, 4, tzinfo=datetime.UTC)):
        form = {"tier": tiers["vip"].pk, "reason": "Chairs the association", "expires_on": ""}
        response = admin_en.post(change, form)
        assert response.status_code == 200 and "Say why this changes" in response.content.decode()
        admin_en.post(change, {**form, "change_reason": "Brought ten new customers"})
    record = override.history.latest()
    assert (record.tier_id, record.history_change_reason, record.history_user) == (
        tiers["vip"].pk,
        "Brought ten new customers",
        admin_user,
    )
    page = admin_en.get(reverse("admin:tiering_tieroverride_history", args=[override.pk])).content.decode()
    assert "Brought ten new customers" in page and "Chairs the association" in page and "&rarr;" in page


def test_removing_an_override_in_admin_asks_why(admin_en, admin_user, strong, tiers):
    with time_machine.travel(datetime.datetime(2026, 10, 10, 4, tzinfo=datetime.UTC)):
        override = services.override_set(customer=strong, tier="core", reason="Trial", set_by=admin_user)
        url = reverse("admin:tiering_tieroverride_delete", args=[override.pk])
        assert 'name="change_reason"' in admin_en.get(url).content.decode()
        admin_en.post(url, {"post": "yes", "change_reason": ""})
        assert TierOverride.objects.exists()
        admin_en.post(url, {"post": "yes", "change_reason": "Trial is over"})
    assert not TierOverride.objects.exists()
    assert TierOverride.history.latest().history_change_reason == "Trial is over"
    assert "delete_selected" not in admin_en.get(reverse("admin:tiering_tieroverride_changelist")).content.decode()


def test_the_history_of_an_override_outlives_its_customer(admin_en, admin_user, strong):
    with time_machine.travel(datetime.datetime(2026, 10, 10, 4, tzinfo=datetime.UTC)):
        override = services.override_set(customer=strong, tier="core", reason="Trial", set_by=admin_user)
    Customer.objects.filter(pk=strong.pk).delete()
    page = admin_en.get(reverse("admin:tiering_tieroverride_history", args=[override.pk]))
    assert page.status_code == 200 and "deleted customer" in page.content.decode()
