"""The notices page's filter and rows: which warning a notice is, with its thresholds, the run or
period it comes from, and the next steps it offers, in a fixed number of queries per page.

The same filter picks the notices listed and those "acknowledge all that match" acknowledges, so
the button never reaches further than the list on screen."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from scoring.models import Tier
from service.models import LetterDispatch, Task
from service.next_steps import SEND_LETTER, NextStep, next_steps_for
from tiering.decide import FLAG_COMPLAINTS, FLAG_NO_ORDER, FLAG_SPEND_DOWN, FLAG_SPEND_UP, FLAGS
from tiering.models import Notice, TieringSettings, TierRun
from tiering.rulebook import Rulebook
from web.flags import flag_label

# The notices page's old "direction" parameter still works: links and bookmarks keep their meaning.
LEGACY_DIRECTIONS = {"upgrade": Notice.Kind.UPGRADE, "downgrade": Notice.Kind.DOWNGRADE}
STATES = {"open", "done"}
IDS_PER_CALL = 5000  # below every database's limit on query parameters


@dataclass(frozen=True)
class NoticeFilter:
    """What the notices page shows: a kind, an early warning's flag, open or acknowledged."""

    kind: str = ""
    warning: str = ""
    state: str = ""

    @classmethod
    def from_params(cls, params) -> NoticeFilter:
        """Unknown values are ignored (the page then lists all), as the existing filters do."""
        kind = params.get("kind", "")
        if kind not in Notice.Kind.values:
            kind = LEGACY_DIRECTIONS.get(params.get("direction", ""), "")
        warning = params.get("warning", "")
        if warning not in FLAGS:
            warning = ""
        if warning:
            kind = Notice.Kind.EARLY_WARNING  # a warning's flag belongs to early warnings only
        state = params.get("state", "")
        return cls(kind=str(kind), warning=warning, state=state if state in STATES else "")

    @property
    def active(self) -> bool:
        return bool(self.kind or self.warning or self.state)

    def params(self) -> dict[str, str]:
        """The filter as URL parameters (for the acknowledge-all form), empty values left out."""
        return {
            name: value
            for name, value in (("kind", self.kind), ("warning", self.warning), ("state", self.state))
            if value
        }

    def apply(self, notices: QuerySet) -> QuerySet:
        if self.kind:
            notices = notices.filter(kind=self.kind)
        if self.warning:
            notices = notices.filter(payload__flag=self.warning)
        if self.state == "open":
            notices = notices.filter(acknowledged_at__isnull=True)
        elif self.state == "done":
            notices = notices.filter(acknowledged_at__isnull=False)
        return notices


def kind_choices() -> list[tuple[str, str]]:
    return [("", _("All kinds")), *((value, str(label)) for value, label in Notice.Kind.choices)]


def warning_choices() -> list[tuple[str, str]]:
    return [("", _("Any warning")), *((flag, flag_label(flag)) for flag in FLAGS)]


def state_choices() -> list[tuple[str, str]]:
    return [("", _("All")), ("open", _("To acknowledge")), ("done", _("Acknowledged"))]


def notice_ids_matching(notices: QuerySet) -> list[list[int]]:
    """The ids of the open notices among `notices`, in batches small enough for one statement each."""
    ids = list(notices.filter(acknowledged_at__isnull=True).order_by().values_list("pk", flat=True))
    return [ids[start : start + IDS_PER_CALL] for start in range(0, len(ids), IDS_PER_CALL)]


# --- one row of the page ---------------------------------------------------------------------------


def _figure(value) -> str:
    """30.00 -> '30', 12.5 -> '12.5': thresholds as people write them."""
    number = float(value)
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}".rstrip("0").rstrip(".")


def _money(value) -> str:
    return "¥" + f"{float(value):,.0f}"


def warning_title(flag: str, settings: TieringSettings) -> str:
    """The early warning in words with its threshold: "Spend up 30% or more"."""
    if flag == FLAG_SPEND_UP:
        return _("Spend up %(percent)s%% or more") % {"percent": _figure(settings.spend_up_percent)}
    if flag == FLAG_SPEND_DOWN:
        return _("Spend down %(percent)s%% or more") % {"percent": _figure(settings.spend_down_percent)}
    if flag == FLAG_COMPLAINTS:
        return _("%(count)d or more complaints in %(days)d days") % {
            "count": settings.complaints_threshold,
            "days": settings.complaints_window_days,
        }
    if flag == FLAG_NO_ORDER:
        return ngettext("No order for %(months)d month", "No order for %(months)d months", settings.no_order_months) % {
            "months": settings.no_order_months
        }
    return flag_label(flag)


def warning_detail(flag: str, payload: dict) -> str:
    """What the customer's figures were when the warning was raised."""
    if flag in (FLAG_SPEND_UP, FLAG_SPEND_DOWN) and "spend_12m" in payload:
        return _("12-month spend %(now)s, against %(before)s at the last tier run") % {
            "now": _money(payload.get("spend_12m") or 0),
            "before": _money(payload.get("spend_12m_last_run") or 0),
        }
    if flag == FLAG_COMPLAINTS and "complaints_recent" in payload:
        count = int(payload["complaints_recent"])
        return ngettext("%(count)d complaint in the window", "%(count)d complaints in the window", count) % {
            "count": count
        }
    return ""


@dataclass
class StepOffer:
    step: NextStep
    task: dict | None = None  # the task planned for it already: id, status


@dataclass
class NoticeRow:
    notice: Notice
    period: str = ""
    run: TierRun | None = None
    as_of: datetime.date | None = None
    warning: str = ""  # the early warning (with its threshold) or the downgrade warning in words
    detail: str = ""
    steps: list[StepOffer] = field(default_factory=list)
    letter_sent: bool = False

    @property
    def is_downgrade(self) -> bool:
        return self.notice.kind == Notice.Kind.DOWNGRADE


DOWNGRADE_WARNING_DETAIL = gettext_lazy(
    "Score %(score)s against the %(threshold)s threshold of %(tier)s: would fall to %(lower)s; %(points)s points needed"
)


def notice_rows(notices: list[Notice]) -> list[NoticeRow]:
    """Rows for a page of notices (selected with customer__tier and change): runs, tiers, planned
    steps and letters sent are read in one query each, the settings only when a warning is shown."""
    run_ids = {notice.run_id for notice in notices if notice.run_id}
    runs = {run.pk: run for run in TierRun.objects.filter(pk__in=run_ids).only("pk", "period", "as_of", "rulebook")}
    tiers = list(Tier.objects.order_by("rank"))
    tier_names = {tier.code: tier.name for tier in tiers}
    top_tier_id = tiers[0].pk if tiers else None
    planned: dict[tuple[int, str], dict] = {}
    for task in (
        Task.objects.filter(notice_id__in=[n.pk for n in notices])
        .exclude(step="")
        .values("id", "notice_id", "step", "status")
    ):
        planned[(task["notice_id"], task["step"])] = task
    change_ids = [notice.change_id for notice in notices if notice.kind == Notice.Kind.DOWNGRADE and notice.change_id]
    letters_sent = set(LetterDispatch.objects.filter(change_id__in=change_ids).values_list("change_id", flat=True))
    current_settings = None
    rows = []
    for notice in notices:
        payload = notice.payload or {}
        run = runs.get(notice.run_id)
        row = NoticeRow(notice=notice, run=run)
        if run is not None:
            row.period, row.as_of = run.period, run.as_of
        else:
            row.period = str(payload.get("period") or "")
            as_of = payload.get("as_of")
            row.as_of = datetime.date.fromisoformat(as_of) if isinstance(as_of, str) and as_of else None
        if notice.kind == Notice.Kind.EARLY_WARNING:
            flag = str(payload.get("flag") or "")
            if run is not None and run.rulebook:
                settings = Rulebook.of_run(run).settings()
            else:
                current_settings = current_settings or TieringSettings.current()
                settings = current_settings
            row.warning = warning_title(flag, settings) if flag else _("Early warning")
            row.detail = warning_detail(flag, payload)
        elif notice.kind == Notice.Kind.DOWNGRADE_WARNING and "threshold" in payload:
            row.warning = _("Below the threshold of the current tier")
            row.detail = DOWNGRADE_WARNING_DETAIL % {
                "score": _figure(payload.get("score", 0)),
                "threshold": _figure(payload.get("threshold", 0)),
                "tier": tier_names.get(payload.get("tier"), payload.get("tier", "")),
                "lower": tier_names.get(payload.get("would_fall_to"), payload.get("would_fall_to", "")),
                "points": _figure(payload.get("points_needed", 0)),
            }
        steps = next_steps_for(notice, tier=notice.customer.tier, top_tier_id=top_tier_id)
        row.letter_sent = notice.change_id in letters_sent
        row.steps = [
            StepOffer(step, planned.get((notice.pk, step.key)))
            for step in steps
            if not (row.letter_sent and step.key == SEND_LETTER)  # done: the letter went out
        ]
        rows.append(row)
    return rows
