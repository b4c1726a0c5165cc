"""Tier runs: start, process chunk by chunk (each chunk its own transaction), close, resume.

A chunk claims itself with a conditional UPDATE (pending -> done) in the same transaction as its
writes, so a retried or duplicated chunk task finds the claim taken and writes nothing twice.
"""

from __future__ import annotations

import datetime
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
from celery import chord, signature
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from core.clock import local_today
from core.exceptions import ConflictError, DomainError
from crm.models import Customer
from scoring.selectors import percentile_populations
from tiering import persist
from tiering.models import TieringSettings, TierRun, TierRunChunk, TierRunPopulation
from tiering.partition import chunk_bounds, period_label
from tiering.rulebook import Rulebook, rulebook_build
from tiering.services import task_names
from tiering.services.changes import run_changes_write
from tiering.services.context import EvaluationContext, scope_customers
from tiering.services.evaluation import Evaluation, customers_evaluate
from tiering.signals import tiers_changed_send_on_commit

logger = logging.getLogger(__name__)

# Sent inside a chunk's transaction once its rows are written, just before the commit, with
# `chunk` (the TierRunChunk) and `attempts` (this attempt's number, 1 for the first). Nothing in
# the product listens: it is where tests inject faults (tiering/tests/faults.py), so the code
# they exercise is the production path itself.
chunk_before_commit = Signal()


def _start_validate(*, as_of, trigger, period, scope) -> str:
    errors = {}
    if not isinstance(as_of, datetime.date) or isinstance(as_of, datetime.datetime):
        errors["as_of"] = [_("A date (YYYY-MM-DD) is required.")]
    elif as_of > (today := local_today()):
        errors["as_of"] = [
            _("The as-of date cannot be later than today (%(today)s): a run scores what has happened.")
            % {"today": today.isoformat()}
        ]
    if trigger not in TierRun.Trigger.values:
        errors["trigger"] = [_("Unknown trigger %(value)r.") % {"value": trigger}]
    if scope not in TierRun.Scope.values:
        errors["scope"] = [_("Unknown scope %(value)r.") % {"value": scope}]
    if period is not None:
        period = str(period).strip()
        if not period or len(period) > TierRun._meta.get_field("period").max_length:
            errors["period"] = [_("A period label of 1 to 16 characters is required, e.g. 2026-Q4.")]
    if errors:
        # The problems in the message too: the web page shows only the message.
        problems = [str(problem) for field_problems in errors.values() for problem in field_problems]
        raise DomainError(" ".join([_("Invalid tier run."), *problems]), fields=errors)
    return period or period_label(as_of, scope)


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
    runs right then). `enqueue=False` leaves the run pending for `tier_run_execute` (the command).

    The run freezes its rule book and percentile populations here, so every chunk, however late
    it runs, scores with what the run started with. A run never looks forward (as of a day after
    today), and only a dry run looks back past the latest run of its scope: a real one would
    write older figures over customers' current standing."""
    period = _start_validate(as_of=as_of, trigger=trigger, period=period, scope=scope)
    settings = TieringSettings.current()
    succeeded = TierRun.objects.filter(scope=scope, status=TierRun.Status.SUCCEEDED, dry_run=False)
    latest_as_of = succeeded.order_by("-as_of").values_list("as_of", flat=True).first()
    if not dry_run and latest_as_of is not None and as_of < latest_as_of:
        # Its writes would replace customers' current standing with older figures.
        raise ConflictError(
            _(
                "A tier run as of %(as_of)s would replace today's tiers with older figures: the latest run of "
                "this scope is as of %(latest)s. Start a dry run to look back."
            )
            % {"as_of": as_of.isoformat(), "latest": latest_as_of.isoformat()},
            code="as_of_before_latest_run",
            fields={
                "as_of": [
                    _("Not earlier than %(latest)s, the as-of date of the latest run; use a dry run to look back.")
                    % {"latest": latest_as_of.isoformat()}
                ]
            },
        )
    already = succeeded.filter(period=period)
    if not dry_run and not force and already.exists():
        raise ConflictError(
            _("Period %(period)s already has a successful tier run; start it with force to run it again.")
            % {"period": period},
            code="period_done",
            fields={"period": [_("This period has already been tiered.")]},
        )
    rulebook = rulebook_build()
    frozen = Rulebook(rulebook, frozen=True)
    tiers = frozen.tier_set()
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
                rulebook=rulebook,
            )
            TierRunPopulation.objects.bulk_create(
                TierRunPopulation(run=run, metric=metric, values=values.tolist())
                for metric, values in percentile_populations(frozen.profile_specs(), as_of).items()
            )
            customers = scope_customers(scope, tiers, prospects_untiered=frozen.settings().prospects_untiered)
            ids = np.fromiter(customers.order_by("id").values_list("id", flat=True), dtype=np.int64)
            chunks = [
                TierRunChunk(run=run, index=index, first_customer_id=first, last_customer_id=last, size=size)
                for index, (first, last, size) in enumerate(chunk_bounds(ids, max(settings.chunk_size, 1)))
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
    try:
        tier_run_dispatch(run_id)
    except Exception as exc:
        logger.exception("tier run %s could not be queued", run_id)
        TierRun.objects.filter(pk=run_id, status__in=[TierRun.Status.PENDING, TierRun.Status.RUNNING]).update(
            status=TierRun.Status.FAILED, finished_at=timezone.now(), error=f"not queued: {exc!r}"[:2000]
        )


def tier_run_dispatch(run_id: int) -> None:
    """Send the run's unfinished chunks as a group; the chord's callback closes the run.

    Tasks by name (task_names): tiering.tasks imports this module."""
    _chunks_send(run_id, tier_run_pending_chunk_ids(run_id))


def _chunks_send(run_id: int, chunk_ids: list[int]) -> None:
    close = signature(task_names.TIER_RUN_CLOSE, args=[run_id], immutable=True)
    if not chunk_ids:
        close.apply_async()
        return
    chord(signature(task_names.TIER_RUN_CHUNK, args=[chunk_id], immutable=True) for chunk_id in chunk_ids)(close)


def tier_runs_redispatch() -> list[int]:
    """Send the pending chunks of every pending or running run again; a worker does this on start.

    A worker killed with SIGKILL can take a chunk's message with it: the Redis transport takes a
    message off the queue's list first and records it as unacknowledged just after, so a message
    caught between the two is gone, and its run would wait for the stalled-run sweep. Messages the
    killed worker had recorded come back only after the visibility timeout (an hour in production).
    Sending the chunks again lets the run finish as soon as a worker is back. The copies are
    harmless: a chunk's claim lets one of them write and the others return without writing, and
    each copy's task returns only once its chunk is done or has failed, so the new chord closes the
    run after every chunk is settled. Closing a closed run changes nothing. Failed chunks are left
    to resume, as the close would leave them."""
    run_ids = list(
        TierRun.objects.filter(status__in=[TierRun.Status.PENDING, TierRun.Status.RUNNING])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for run_id in run_ids:
        chunk_ids = list(
            TierRunChunk.objects.filter(run_id=run_id, status=TierRunChunk.Status.PENDING)
            .order_by("index")
            .values_list("id", flat=True)
        )
        _chunks_send(run_id, chunk_ids)
        logger.warning("tier run %s: %d pending chunk(s) sent again by a starting worker", run_id, len(chunk_ids))
    return run_ids


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


def chunk_process(chunk_id: int) -> bool:
    """Evaluate and write one chunk. Returns False when it was already done (retry or duplicate)."""
    chunk = TierRunChunk.objects.select_related("run").get(pk=chunk_id)
    if chunk.status == TierRunChunk.Status.DONE:
        return False
    run = chunk.run
    TierRunChunk.objects.filter(pk=chunk_id).update(attempts=F("attempts") + 1)
    attempts = chunk.attempts + 1
    _run_mark_running(run.pk)

    context = EvaluationContext.for_run(run)
    customers = scope_customers(
        run.scope, context.tiers, prospects_untiered=context.settings.prospects_untiered
    ).filter(id__gte=chunk.first_customer_id, id__lte=chunk.last_customer_id)
    evaluation = customers_evaluate(
        customers,
        context,
        first=chunk.first_customer_id,
        last=chunk.last_customer_id,
        count_this_run=not _is_rerun(run),
        spend_from_history=True,
        exclude_run_id=run.pk,
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
        chunk_before_commit.send(sender=TierRunChunk, chunk=chunk, attempts=attempts)
        TierRun.objects.filter(pk=run.pk).update(
            done=F("done") + len(evaluation),
            upgrades=F("upgrades") + summary["upgrades"],
            downgrades=F("downgrades") + summary["downgrades"],
        )
    return True


def _chunk_rows(run: TierRun, evaluation: Evaluation, now) -> persist.ChunkRows:
    """The chunk's history rows and customer standing as columns, for persist.chunk_write."""
    scored = evaluation.scored
    table = scored.table
    decision = evaluation.decision
    return persist.ChunkRows(
        run_id=run.pk,
        created_at=now,
        as_of=run.as_of,
        customer_ids=table.customer_ids,
        scores=np.round(scored.totals, 2),
        computed_tier_ids=scored.tier_ids,
        tier_ids=evaluation.tier_id(decision.effective_index),
        previous_tier_ids=table.tier_id,
        previous_scores=np.round(table.score, 2),
        profile_ids=scored.profile_ids,
        profile_versions={pid: profile.version for pid, profile in scored.profiles.items()},
        lifecycle=evaluation.lifecycle.tolist(),
        overridden=decision.overridden,
        runs_below=decision.runs_below,
        flags=evaluation.flags,
        metric_keys=run.metric_keys,
        # Values as scored, unrounded: verify_history recomputes the score from them to the cent.
        metric_values=_snapshot_matrix(table.metrics, run.metric_keys, len(table)),
        point_values=_snapshot_matrix(scored.points, run.metric_keys, len(table), decimals=2),
        spend_12m=np.round(table.metrics["spend_12m"], 2),
        last_order_days=table.last_order,
    )


def _snapshot_matrix(
    columns: dict[str, np.ndarray], keys: list[str], size: int, *, decimals: int | None = None
) -> np.ndarray:
    """Columns in the order of `keys`, rounded when `decimals` is given; NaN for a key without a column."""
    matrix = np.full((size, len(keys)), np.nan)
    for n, key in enumerate(keys):
        if key in columns:
            values = np.asarray(columns[key], dtype=float)
            matrix[:, n] = values if decimals is None else np.round(values, decimals)
    return matrix


def _chunk_write(run: TierRun, chunk: TierRunChunk, evaluation: Evaluation) -> None:
    now = timezone.now()
    customers_present = persist.chunk_write(_chunk_rows(run, evaluation, now))
    run_changes_write(run, evaluation, now, customers_present=customers_present)


def _prospects_untier(run: TierRun) -> int:
    """Prospects tiered before the rule book left them out lose that standing when a full run
    that leaves them out succeeds (one statement)."""
    if run.dry_run or run.scope != TierRun.Scope.ALL or not Rulebook.of_run(run).settings().prospects_untiered:
        return 0
    return Customer.objects.filter(cooperation_since__isnull=True, tier__isnull=False).update(
        tier=None, computed_tier=None, score=None, runs_below_threshold=0
    )


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
        _prospects_untier(run)
        if not run.dry_run:
            tiers_changed_send_on_commit(run_id=run.pk)
    run.refresh_from_db()
    logger.info("tier run %s closed: %s", run.pk, run.status)
    return run


# Set in each worker process of tier_run_execute: once a chunk fails, no further chunk starts.
_worker_stop = None


def _worker_init(stop) -> None:
    global _worker_stop
    _worker_stop = stop


def _chunk_work(chunk_id: int, size: int, stop) -> int:
    """One chunk; its size when it was processed, 0 when it failed or was skipped after a failure."""
    if stop.is_set():
        return 0
    try:
        chunk_process(chunk_id)
    except Exception as exc:
        stop.set()
        chunk_failed(chunk_id, repr(exc))
        return 0
    return size


def _chunk_work_in_process(item: tuple[int, int]) -> int:
    try:
        return _chunk_work(*item, _worker_stop)
    finally:
        connections.close_all()


def _parallel(workers: int, chunks: int) -> bool:
    """Worker processes need PostgreSQL (SQLite has one writer), fork (the children inherit the
    configured Django) and no open transaction (the children could not see its rows)."""
    return (
        workers > 1
        and chunks > 1
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and "fork" in multiprocessing.get_all_start_methods()
    )


def tier_run_execute(
    run: TierRun, progress: Callable[[int, int], None] | None = None, *, workers: int | None = None
) -> TierRun:
    """Run every unfinished chunk here (the `retier` command), then close.

    On PostgreSQL, outside a transaction, chunks run in up to `workers` forked worker processes
    (default: one per CPU, at most 4), each on its own connection, as Celery's prefork workers
    would: one chunk's Python work overlaps another's queries, without sharing an interpreter lock.
    After a chunk fails no further chunk starts."""
    _run_mark_running(run.pk)
    chunks = list(run.chunks.exclude(status=TierRunChunk.Status.DONE).order_by("index"))
    done = sum(c.size for c in run.chunks.filter(status=TierRunChunk.Status.DONE))
    workers = workers or min(os.cpu_count() or 1, 4)
    if _parallel(workers, len(chunks)):
        context = multiprocessing.get_context("fork")
        stop = context.Event()
        connections.close_all()  # a forked child must not share the parent's connection
        pool = ProcessPoolExecutor(
            min(workers, len(chunks)), mp_context=context, initializer=_worker_init, initargs=(stop,)
        )
        try:
            for size in pool.map(_chunk_work_in_process, [(c.pk, c.size) for c in chunks]):
                done += size
                if progress and size:
                    progress(done, run.total)
        except BrokenProcessPool:
            # A worker process died (killed, out of memory): its chunk rolled back with it. The run
            # closes as failed with its unfinished chunks, to be resumed.
            logger.error("tier run %s: a worker process died; the run stops here", run.pk)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        stop = threading.Event()
        for chunk in chunks:
            size = _chunk_work(chunk.pk, chunk.size, stop)
            if not size and stop.is_set():
                break
            done += size
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
