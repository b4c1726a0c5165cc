"""Tier runs: start, process chunk by chunk (each chunk its own transaction), close, resume.

A chunk claims itself with a conditional UPDATE (pending -> done) in the same transaction as its
writes, so a retried or duplicated chunk task finds the claim taken and writes nothing twice.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from collections.abc import Callable

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.exceptions import ConflictError, DomainError
from crm.models import Customer
from scoring.metrics import METRICS
from tiering import decide, persist
from tiering.models import Notice, TierAssignment, TierChange, TieringSettings, TierRun, TierRunChunk
from tiering.services.context import EvaluationContext, scope_customers
from tiering.services.evaluation import Evaluation, customers_evaluate
from tiering.services.notices import notices_deliver_on_commit

logger = logging.getLogger(__name__)

# Test-only fault injection: "raise:<chunk index>" or "exit:<chunk index>" fails that chunk's first attempt.
FAULT_ENV = "TIERING_FAULT_INJECT"


def period_label(as_of: datetime.date, scope: str = TierRun.Scope.ALL) -> str:
    """`2026-Q4` for quarterly runs of everyone, `2026-11` for the monthly VIP/at-risk runs."""
    if scope == TierRun.Scope.VIP_AND_AT_RISK:
        return f"{as_of.year}-{as_of.month:02d}"
    return f"{as_of.year}-Q{(as_of.month - 1) // 3 + 1}"


def _start_validate(*, as_of, trigger, period, scope) -> str:
    errors = {}
    if not isinstance(as_of, datetime.date) or isinstance(as_of, datetime.datetime):
        errors["as_of"] = [_("A date (YYYY-MM-DD) is required.")]
    if trigger not in TierRun.Trigger.values:
        errors["trigger"] = [_("Unknown trigger %(value)r.") % {"value": trigger}]
    if scope not in TierRun.Scope.values:
        errors["scope"] = [_("Unknown scope %(value)r.") % {"value": scope}]
    if period is not None:
        period = str(period).strip()
        if not period or len(period) > TierRun._meta.get_field("period").max_length:
            errors["period"] = [_("A period label of 1 to 16 characters is required, e.g. 2026-Q4.")]
    if errors:
        raise DomainError(_("Invalid tier run."), fields=errors)
    return period or period_label(as_of, scope)


def _chunk_bounds(ids: np.ndarray, size: int) -> list[tuple[int, int, int]]:
    return [
        (int(part[0]), int(part[-1]), len(part))
        for part in np.array_split(ids, range(size, len(ids), size))
        if len(part)
    ]


def tier_run_start(
    *,
    as_of: datetime.date,
    trigger: str,
    started_by=None,
    period: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    scope: str = TierRun.Scope.ALL,
    enqueue: bool = True,
) -> TierRun:
    """Create a run and its chunks, then hand the work to Celery after commit (in eager mode it
    runs right then). `enqueue=False` leaves the run pending for `tier_run_execute` (the command)."""
    period = _start_validate(as_of=as_of, trigger=trigger, period=period, scope=scope)
    settings = TieringSettings.current()
    already = TierRun.objects.filter(period=period, scope=scope, status=TierRun.Status.SUCCEEDED, dry_run=False)
    if not dry_run and not force and already.exists():
        raise ConflictError(
            _("Period %(period)s already has a successful tier run; start it with force to run it again.")
            % {"period": period},
            code="period_done",
            fields={"period": [_("This period has already been tiered.")]},
        )
    try:
        with transaction.atomic():
            run = TierRun.objects.create(
                period=period,
                as_of=as_of,
                scope=scope,
                trigger=trigger,
                dry_run=dry_run,
                forced=force,
                started_by=started_by,
            )
            context_tiers = EvaluationContext.load(as_of).tiers
            ids = np.fromiter(
                scope_customers(scope, context_tiers).order_by("id").values_list("id", flat=True), dtype=np.int64
            )
            chunks = [
                TierRunChunk(run=run, index=index, first_customer_id=first, last_customer_id=last, size=size)
                for index, (first, last, size) in enumerate(_chunk_bounds(ids, max(settings.chunk_size, 1)))
            ]
            TierRunChunk.objects.bulk_create(chunks)
            run.total = len(ids)
            run.save(update_fields=["total"])
            if enqueue:
                transaction.on_commit(lambda: _enqueue(run.pk))
    except IntegrityError:
        raise ConflictError(
            _("Another tier run of this scope is already in progress."),
            code="run_in_progress",
            fields={"scope": [_("A run of this scope is pending or running.")]},
        ) from None
    logger.info("tier run %s (%s, %s) started with %d customers", run.pk, period, scope, run.total)
    return run


def _enqueue(run_id: int) -> None:
    """Hand the run to Celery. If that fails (broker down), the run is marked failed, to be resumed."""
    from tiering import tasks

    try:
        tasks.tier_run_dispatch(run_id)
    except Exception as exc:
        logger.exception("tier run %s could not be queued", run_id)
        TierRun.objects.filter(pk=run_id, status__in=[TierRun.Status.PENDING, TierRun.Status.RUNNING]).update(
            status=TierRun.Status.FAILED, finished_at=timezone.now(), error=f"not queued: {exc!r}"[:2000]
        )


def _run_mark_running(run_id: int) -> None:
    TierRun.objects.filter(pk=run_id, status=TierRun.Status.PENDING).update(
        status=TierRun.Status.RUNNING, started_at=timezone.now()
    )


def _is_rerun(run: TierRun) -> bool:
    """A forced rerun of a period already counted must not advance the grace counters again."""
    return (
        TierRun.objects.filter(period=run.period, scope=run.scope, status=TierRun.Status.SUCCEEDED, dry_run=False)
        .exclude(pk=run.pk)
        .exists()
    )


def _fault_maybe(chunk: TierRunChunk, attempts: int) -> None:
    """Fail the first attempt of the chunks named in TIERING_FAULT_INJECT ("raise:1,exit:2"), after
    their rows are written but before commit. Only the real-worker tests set it."""
    spec = os.environ.get(FAULT_ENV, "")
    if not spec or attempts != 1:
        return
    for item in spec.split(","):
        mode, _sep, index = item.strip().partition(":")
        if index != str(chunk.index):
            continue
        if mode == "exit":
            os._exit(1)  # the worker process dies mid-transaction
        raise RuntimeError(f"injected fault in chunk {chunk.index}")


def chunk_process(chunk_id: int) -> bool:
    """Evaluate and write one chunk. Returns False when it was already done (retry or duplicate)."""
    chunk = TierRunChunk.objects.select_related("run").get(pk=chunk_id)
    if chunk.status == TierRunChunk.Status.DONE:
        return False
    run = chunk.run
    TierRunChunk.objects.filter(pk=chunk_id).update(attempts=F("attempts") + 1)
    attempts = chunk.attempts + 1
    _run_mark_running(run.pk)

    context = EvaluationContext.load(run.as_of)
    customers = scope_customers(run.scope, context.tiers).filter(
        id__gte=chunk.first_customer_id, id__lte=chunk.last_customer_id
    )
    evaluation = customers_evaluate(
        customers,
        context,
        first=chunk.first_customer_id,
        last=chunk.last_customer_id,
        count_this_run=not _is_rerun(run),
    )
    decision = evaluation.decision
    summary = {
        "tier_counts": evaluation.code_counts(decision.effective_index),
        "tier_counts_before": evaluation.code_counts(decision.previous_index),
        "upgrades": int((decision.direction > 0).sum()),
        "downgrades": int((decision.direction < 0).sum()),
    }
    with transaction.atomic():
        claimed = TierRunChunk.objects.filter(
            pk=chunk_id, status__in=[TierRunChunk.Status.PENDING, TierRunChunk.Status.FAILED]
        ).update(status=TierRunChunk.Status.DONE, finished_at=timezone.now(), error="", **summary)
        if not claimed:
            return False  # another worker got there first
        if not run.dry_run:
            _chunk_write(run, chunk, evaluation)
        _fault_maybe(chunk, attempts)
        TierRun.objects.filter(pk=run.pk).update(
            done=F("done") + len(evaluation),
            upgrades=F("upgrades") + summary["upgrades"],
            downgrades=F("downgrades") + summary["downgrades"],
        )
    return True


def _json_column(values: np.ndarray, decimals: int) -> list[str]:
    """JSON numbers for a float column (null for NaN), formatted in one vectorised pass."""
    rounded = np.round(values.astype(float), decimals)
    return np.where(np.isnan(rounded), "null", rounded.astype(str)).tolist()


def _json_objects(keys: list[str], columns: list[list[str]], size: int) -> list[str]:
    if not keys:
        return ["{}"] * size
    template = "{" + ",".join(f'"{key}":%s' for key in keys) + "}"
    return [template % row for row in zip(*columns, strict=True)]


def _metrics_snapshot(evaluation: Evaluation) -> list[str]:
    """Every metric value per customer, as JSON text ready for the history row."""
    table = evaluation.scored.table
    keys = [key for key in METRICS if key in table.metrics]
    return _json_objects(keys, [_json_column(table.metrics[key], 4) for key in keys], len(evaluation))


def _points_snapshot(evaluation: Evaluation) -> list[str]:
    """Points of each rule of the customer's profile, as JSON text."""
    scored = evaluation.scored
    result: list[str] = ["{}"] * len(scored)
    for profile_id, profile in scored.profiles.items():
        positions = np.nonzero(scored.profile_ids == profile_id)[0]
        if not positions.size:
            continue
        keys = [rule.metric for rule in profile.rules]
        rows = _json_objects(
            keys, [_json_column(scored.points[key][positions], 2) for key in keys], int(positions.size)
        )
        for position, row in zip(positions.tolist(), rows, strict=True):
            result[position] = row
    return result


def _previous_points(run: TierRun, customer_ids: list[int]) -> dict[int, dict]:
    """Per-rule points of each customer's latest earlier assignment, in two queries."""
    if not customer_ids:
        return {}
    latest = (
        TierAssignment.objects.filter(customer_id__in=customer_ids)
        .exclude(run=run)
        .values("customer_id")
        .annotate(last_id=Max("id"))
        .values_list("last_id", flat=True)
    )
    return dict(TierAssignment.objects.filter(pk__in=list(latest)).values_list("customer_id", "points"))


def _chunk_write(run: TierRun, chunk: TierRunChunk, evaluation: Evaluation) -> None:
    scored = evaluation.scored
    table = scored.table
    decision = evaluation.decision
    now = timezone.now()
    ids = table.customer_ids.tolist()
    totals = scored.totals.tolist()
    computed_ids = scored.tier_ids.tolist()
    effective_ids = evaluation.tier_id(decision.effective_index).tolist()
    previous_ids = table.tier_id.tolist()
    previous_scores = table.score.tolist()
    profile_ids = scored.profile_ids.tolist()
    versions = {pid: profile.version for pid, profile in scored.profiles.items()}
    overridden = decision.overridden.tolist()
    runs_below = decision.runs_below.tolist()
    lifecycle = evaluation.lifecycle.tolist()
    metrics = _metrics_snapshot(evaluation)
    points = _points_snapshot(evaluation)
    flags = [json.dumps(f) if f else "[]" for f in evaluation.flags]
    spend = np.round(table.metrics["spend_12m"], 2).tolist()
    last_order = table.last_order.tolist()

    persist.assignments_write(
        [
            (
                run.pk,
                ids[i],
                f"{totals[i]:.2f}",
                computed_ids[i],
                effective_ids[i],
                previous_ids[i] if previous_ids[i] >= 0 else None,
                None if previous_scores[i] != previous_scores[i] else f"{previous_scores[i]:.2f}",
                profile_ids[i],
                versions[profile_ids[i]],
                lifecycle[i],
                metrics[i],
                points[i],
                overridden[i],
                runs_below[i],
                flags[i],
                now,
            )
            for i in range(len(ids))
        ]
    )
    persist.customers_update(
        ["tier", "computed_tier", "score", "lifecycle", "flags", "spend_12m", "last_order_at", "runs_below_threshold"],
        [
            (
                ids[i],
                effective_ids[i],
                computed_ids[i],
                f"{totals[i]:.2f}",
                lifecycle[i],
                evaluation.flags[i],
                f"{spend[i]:.2f}",
                datetime.date.fromordinal(last_order[i]) if last_order[i] > 0 else None,
                runs_below[i],
            )
            for i in range(len(ids))
        ],
        {"tiered_at": now, "updated_at": now},
    )
    _changes_write(run, evaluation, now)


def _changes_write(run: TierRun, evaluation: Evaluation, now) -> None:
    decision = evaluation.decision
    moved = np.nonzero(decision.direction != 0)[0]
    if not moved.size:
        return
    table = evaluation.scored.table
    ids = table.customer_ids
    previous = _previous_points(run, ids[moved].tolist())
    changes, by_customer = [], {}
    for i in moved.tolist():
        customer_id = int(ids[i])
        direction = int(decision.direction[i])
        reasons = decide.top_reasons(
            points=evaluation.points_of(i),
            max_points=evaluation.max_points_of(i),
            previous_points=previous.get(customer_id),
            direction=direction,
        )
        score_before = table.score[i]
        change = TierChange(
            run=run,
            customer_id=customer_id,
            from_tier_id=int(table.tier_id[i]),
            to_tier_id=int(evaluation.tier_id(decision.effective_index[i : i + 1])[0]),
            direction=TierChange.Direction.UPGRADE if direction > 0 else TierChange.Direction.DOWNGRADE,
            score_before=None if np.isnan(score_before) else round(float(score_before), 2),
            score=round(float(evaluation.scored.totals[i]), 2),
            reasons=reasons,
        )
        changes.append(change)
        by_customer[customer_id] = (i, change)
    change_ids = persist.changes_write(changes)
    codes = dict(Customer.objects.filter(pk__in=list(change_ids)).values_list("id", "code"))
    notices, delivered = [], []
    tier_codes = {
        int(tier_id): code for tier_id, code in zip(evaluation.context.tiers.ids, evaluation.context.codes, strict=True)
    }
    for customer_id, change_id in change_ids.items():
        i, change = by_customer[customer_id]
        manager_id = int(table.account_manager_id[i])
        payload = {
            "from": tier_codes.get(change.from_tier_id),
            "to": tier_codes.get(change.to_tier_id),
            "score_before": None if change.score_before is None else float(change.score_before),
            "score": float(change.score),
            "reasons": change.reasons,
            "period": run.period,
        }
        notices.append(
            Notice(
                kind=change.direction,
                customer_id=customer_id,
                recipient_id=manager_id if manager_id > 0 else None,
                change_id=change_id,
                run=run,
                payload=payload,
            )
        )
        delivered.append(
            {
                "kind": change.direction,
                "customer_id": customer_id,
                "customer_code": codes.get(customer_id),
                "recipient_id": manager_id if manager_id > 0 else None,
                "run_id": run.pk,
                **payload,
            }
        )
    persist.notices_write(notices)
    notices_deliver_on_commit(delivered)


def chunk_failed(chunk_id: int, error: str) -> None:
    """A chunk gave up after its retries: mark it and its run failed so the run can be resumed."""
    chunk = TierRunChunk.objects.filter(pk=chunk_id).first()
    if chunk is None:
        return
    TierRunChunk.objects.filter(pk=chunk_id).exclude(status=TierRunChunk.Status.DONE).update(
        status=TierRunChunk.Status.FAILED, error=error[:2000]
    )
    logger.error("tier run %s chunk %s failed: %s", chunk.run_id, chunk.index, error)


def tier_run_close(run_id: int) -> TierRun:
    """Sum the chunks into the run and mark it succeeded, or failed when a chunk is unfinished."""
    run = TierRun.objects.get(pk=run_id)
    if run.status not in (TierRun.Status.PENDING, TierRun.Status.RUNNING):
        return run
    chunks = list(run.chunks.all())
    unfinished = [c for c in chunks if c.status != TierRunChunk.Status.DONE]
    now = timezone.now()
    if unfinished:
        errors = "; ".join(f"#{c.index}: {c.error or c.status}" for c in unfinished[:5])
        TierRun.objects.filter(pk=run_id).update(
            status=TierRun.Status.FAILED,
            finished_at=now,
            error=_("%(count)d chunk(s) unfinished: %(errors)s") % {"count": len(unfinished), "errors": errors},
        )
    else:
        after: dict[str, int] = {}
        before: dict[str, int] = {}
        for chunk in chunks:
            for key, value in chunk.tier_counts.items():
                after[key] = after.get(key, 0) + value
            for key, value in chunk.tier_counts_before.items():
                before[key] = before.get(key, 0) + value
        TierRun.objects.filter(pk=run_id).update(
            status=TierRun.Status.SUCCEEDED,
            finished_at=now,
            started_at=run.started_at or now,
            error="",
            tier_counts=after,
            tier_counts_before=before,
            upgrades=sum(c.upgrades for c in chunks),
            downgrades=sum(c.downgrades for c in chunks),
        )
    run.refresh_from_db()
    logger.info("tier run %s closed: %s", run.pk, run.status)
    return run


def tier_run_execute(run: TierRun, progress: Callable[[int, int], None] | None = None) -> TierRun:
    """Run every unfinished chunk in this process (the `retier` command, eager mode), then close."""
    _run_mark_running(run.pk)
    chunks = list(run.chunks.exclude(status=TierRunChunk.Status.DONE).order_by("index"))
    done = sum(c.size for c in run.chunks.filter(status=TierRunChunk.Status.DONE))
    for chunk in chunks:
        try:
            chunk_process(chunk.pk)
        except Exception as exc:
            chunk_failed(chunk.pk, repr(exc))
            break
        done += chunk.size
        if progress:
            progress(done, run.total)
    return tier_run_close(run.pk)


def tier_run_resume(run: TierRun, *, enqueue: bool = True) -> TierRun:
    """Re-open a failed or stuck run and re-enqueue its unfinished chunks; finished ones stay done."""
    if run.status == TierRun.Status.SUCCEEDED:
        raise ConflictError(_("This tier run has already succeeded."), code="run_done")
    try:
        with transaction.atomic():
            TierRun.objects.filter(pk=run.pk).update(status=TierRun.Status.RUNNING, error="", finished_at=None)
            run.chunks.filter(status=TierRunChunk.Status.FAILED).update(status=TierRunChunk.Status.PENDING)
            if enqueue:
                transaction.on_commit(lambda: _enqueue(run.pk))
    except IntegrityError:
        raise ConflictError(
            _("Another tier run of this scope is already in progress."), code="run_in_progress"
        ) from None
    run.refresh_from_db()
    return run


def tier_run_pending_chunk_ids(run_id: int) -> list[int]:
    return list(
        TierRunChunk.objects.filter(run_id=run_id)
        .exclude(status=TierRunChunk.Status.DONE)
        .order_by("index")
        .values_list("id", flat=True)
    )
