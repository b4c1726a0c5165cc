"""Tier runs, the append-only history they write, notices, overrides and tiering settings."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.fields import FloatArrayField
from crm.models import Customer
from scoring.metrics import METRICS


def metric_keys_default() -> list[str]:
    return list(METRICS)


class TierRun(models.Model):
    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Manual")
        API = "api", _("API")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Scope(models.TextChoices):
        ALL = "all", _("All customers")
        VIP_AND_AT_RISK = "vip_at_risk", _("VIP and at-risk customers")

    period = models.CharField(_("period"), max_length=16, help_text=_("e.g. 2026-Q4 or 2026-11"))
    as_of = models.DateField(_("as of"))
    scope = models.CharField(_("scope"), max_length=12, choices=Scope.choices, default=Scope.ALL)
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    dry_run = models.BooleanField(_("dry run"), default=False)
    forced = models.BooleanField(_("forced"), default=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    total = models.PositiveIntegerField(_("customers"), default=0)
    done = models.PositiveIntegerField(_("customers done"), default=0)
    tier_counts = models.JSONField(_("customers per tier"), default=dict, blank=True)
    tier_counts_before = models.JSONField(_("customers per tier before"), default=dict, blank=True)
    upgrades = models.PositiveIntegerField(_("upgrades"), default=0)
    downgrades = models.PositiveIntegerField(_("downgrades"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # The order of the metric and points snapshots in this run's assignments.
    metric_keys = models.JSONField(_("metric keys"), default=metric_keys_default, editable=False)
    # What the run scores with, frozen at its start (tiering.rulebook): the active profiles and
    # their rules, the tiers and the settings that decide grace and warnings. Letters, history
    # and verify_history read it, so editing the rules later never rewrites this run's figures.
    # Empty for runs from before rule books were kept: readers say they use today's rules.
    rulebook = models.JSONField(_("rule book"), default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("tier run")
        verbose_name_plural = _("tier runs")
        constraints = [
            # At most one run of a scope may be pending or running at any moment.
            models.UniqueConstraint(
                fields=["scope"],
                condition=Q(status__in=["pending", "running"], dry_run=False),
                name="one_active_run_per_scope",
                violation_error_message=_("Another tier run is already in progress."),
            ),
        ]
        indexes = [models.Index(fields=["period", "status"], name="tierrun_period_status")]

    def __str__(self):
        return f"{self.period} #{self.pk}"

    @property
    def progress_percent(self) -> int:
        return int(self.done * 100 / self.total) if self.total else (100 if self.status == "succeeded" else 0)


class TierRunPopulation(models.Model):
    """The sorted values a run's percentile rules rank against (all active customers as of its
    date), frozen at its start beside the rule book: every chunk ranks against the same values,
    and verify_history against them again. Apart from the run row, which is read far more often."""

    run = models.ForeignKey(TierRun, on_delete=models.CASCADE, related_name="populations")
    metric = models.CharField(max_length=40)
    values = FloatArrayField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "metric"], name="tierrunpopulation_unique")]


class TierRunChunk(models.Model):
    """A slice of customers (by id range) processed by one Celery task; finished chunks are never redone."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(TierRun, on_delete=models.CASCADE, related_name="chunks", verbose_name=_("tier run"))
    index = models.PositiveIntegerField(_("chunk number"))
    first_customer_id = models.BigIntegerField(_("first customer id"))
    last_customer_id = models.BigIntegerField(_("last customer id"))
    size = models.PositiveIntegerField(_("customers"), default=0)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # What the chunk found, summed by the run's closing step (dry runs report from these too).
    tier_counts = models.JSONField(_("customers per tier"), default=dict, blank=True)
    tier_counts_before = models.JSONField(_("customers per tier before"), default=dict, blank=True)
    upgrades = models.PositiveIntegerField(_("upgrades"), default=0)
    downgrades = models.PositiveIntegerField(_("downgrades"), default=0)

    class Meta:
        ordering = ["run", "index"]
        verbose_name = _("tier run chunk")
        verbose_name_plural = _("tier run chunks")
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="tierrunchunk_unique")]


class TierAssignment(models.Model):
    """Append-only: one row per customer per run, enough to explain and reproduce the tier."""

    # A run writes one row per customer, so every index and foreign-key check here is paid
    # 100,000 times per run (a database foreign-key check costs ~3.5 µs a row, about 0.35 s per
    # key per 100,000 customers). None of the keys is checked by the database; instead:
    # - run: runs are never deleted (read-only in admin), and a chunk writes its rows in the
    #   transaction that updates its run;
    # - customer: a chunk locks its customers (the standing UPDATE) before it writes their history,
    #   joined to the customer table, and deleting a customer locks it before deleting its history
    #   (crm.models.CustomerQuerySet.delete), so history is never orphaned;
    # - tiers and profiles: never deleted while history refers to them (PROTECT in the ORM).
    # run and customer are led by the two composite indexes below.
    run = models.ForeignKey(
        TierRun,
        on_delete=models.CASCADE,
        related_name="assignments",
        db_index=False,
        db_constraint=False,
        verbose_name=_("tier run"),
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="tier_assignments",
        db_index=False,
        db_constraint=False,
        verbose_name=_("customer"),
    )
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    computed_tier = models.ForeignKey(
        "scoring.Tier",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("computed tier"),
    )
    tier = models.ForeignKey(
        "scoring.Tier",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("tier"),
    )
    previous_tier = models.ForeignKey(
        "scoring.Tier",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("previous tier"),
    )
    previous_score = models.DecimalField(_("previous score"), max_digits=5, decimal_places=2, null=True)
    profile = models.ForeignKey(
        "scoring.ScoringProfile",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("scoring profile"),
    )
    profile_version = models.PositiveIntegerField(_("profile version"))
    # The customer's lifecycle stage as of the run (crm.models.Customer.Lifecycle's values).
    lifecycle = models.CharField(_("lifecycle stage"), max_length=12, blank=True, choices=Customer.Lifecycle.choices)
    # Snapshots aligned with run.metric_keys: each metric's value (None: no value) and the points
    # its rule earned (None: the profile has no rule for it). Arrays, not JSON: a run writes
    # 100,000 of them, and building JSON for each took half the history insert.
    metric_values = FloatArrayField(_("metric values"), default=list)
    point_values = FloatArrayField(_("point values"), default=list)
    overridden = models.BooleanField(_("Manual tier"), default=False)
    runs_below_threshold = models.PositiveSmallIntegerField(_("runs below threshold"), default=0)
    flags = models.JSONField(_("early-warning flags"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("tier assignment")
        verbose_name_plural = _("tier assignments")
        constraints = [models.UniqueConstraint(fields=["run", "customer"], name="assignment_run_customer_unique")]
        indexes = [models.Index(fields=["customer", "-created_at"], name="assignment_customer_time")]

    def __str__(self):
        # Translated, unlike Django's default "TierAssignment object (12)" in admin titles.
        return f"{self._meta.verbose_name} #{self.pk}"

    @property
    def metrics(self) -> dict[str, float | None]:
        """Metric values by key."""
        return dict(zip(self.run.metric_keys, self.metric_values, strict=False))

    @metrics.setter
    def metrics(self, values: dict) -> None:
        self.metric_values = self._aligned(values)

    @property
    def points(self) -> dict[str, float]:
        """Points by metric, for the rules of the customer's profile."""
        return {
            key: value for key, value in zip(self.run.metric_keys, self.point_values, strict=False) if value is not None
        }

    @points.setter
    def points(self, values: dict) -> None:
        self.point_values = self._aligned(values)

    def _aligned(self, values: dict) -> list[float | None]:
        keys = self.run.metric_keys
        unknown = set(values) - set(keys)
        if unknown:
            raise ValueError(f"metrics not in the run's snapshot keys: {sorted(unknown)}")
        return [values.get(key) for key in keys]


class TierChange(models.Model):
    """Append-only record of a customer moving tier; notices and the change feed are produced from it."""

    class Direction(models.TextChoices):
        UPGRADE = "upgrade", _("Upgrade")
        DOWNGRADE = "downgrade", _("Downgrade")

    # run is led by the (run, customer) unique index; keys are kept by the application as on
    # TierAssignment (a run writes ~20% of its customers here).
    run = models.ForeignKey(
        TierRun,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="changes",
        db_index=False,
        db_constraint=False,
        verbose_name=_("tier run"),
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="tier_changes",
        db_constraint=False,
        verbose_name=_("customer"),
    )
    from_tier = models.ForeignKey(
        "scoring.Tier",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("from tier"),
    )
    to_tier = models.ForeignKey(
        "scoring.Tier",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("to tier"),
    )
    direction = models.CharField(_("direction"), max_length=9, choices=Direction.choices)
    score_before = models.DecimalField(_("score before"), max_digits=5, decimal_places=2, null=True)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2)
    reasons = models.JSONField(_("reasons"), default=list, help_text=_("Rules that moved the score most."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "customer"], condition=Q(run__isnull=False), name="tierchange_run_customer_unique"
            )
        ]

    def __str__(self):
        return f"{self.get_direction_display()} #{self.pk}"


class Notice(models.Model):
    class Kind(models.TextChoices):
        UPGRADE = "upgrade", _("Upgrade")
        DOWNGRADE = "downgrade", _("Downgrade")
        DOWNGRADE_WARNING = "downgrade_warning", _("Downgrade warning")
        EARLY_WARNING = "early_warning", _("Early warning")
        CASE_REMINDER = "case_reminder", _("Case response due soon")
        CASE_BREACH = "case_breach", _("Case response breached")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # customer and run: kept by the application as on TierAssignment (one notice per change).
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="notices",
        db_constraint=False,
        verbose_name=_("customer"),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        related_name="tier_notices",
        db_index=False,  # led by the notice_recipient_open index
        verbose_name=_("recipient"),
    )
    # Written in the statement that joins the change rows, so it always refers to one.
    change = models.OneToOneField(
        TierChange,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notice",
        db_constraint=False,
        verbose_name=_("tier change"),
    )
    run = models.ForeignKey(
        TierRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notices",
        db_constraint=False,
        verbose_name=_("tier run"),
    )
    # For warnings that do not come from a change: identifies the event so it is noticed once.
    dedupe_key = models.CharField(_("dedupe key"), max_length=100, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # never filtered on; a run inserts thousands of notices
        verbose_name=_("acknowledged by"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "dedupe_key"], condition=~Q(dedupe_key=""), name="notice_dedupe_unique"
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "acknowledged_at", "-created_at"], name="notice_recipient_open"),
            # Administrators' open-notice count and list: only the unacknowledged rows, newest first.
            models.Index(fields=["-created_at"], condition=Q(acknowledged_at__isnull=True), name="notice_open_recent"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class TierOverride(models.Model):
    """A manual tier that wins over the computed one until it expires; always carries a reason."""

    customer = models.OneToOneField(
        "crm.Customer", on_delete=models.CASCADE, related_name="tier_override", verbose_name=_("customer")
    )
    tier = models.ForeignKey("scoring.Tier", on_delete=models.PROTECT, related_name="+", verbose_name=_("tier"))
    reason = models.TextField(_("reason"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("set by")
    )
    created_at = models.DateTimeField(_("set at"), auto_now_add=True)
    history = HistoricalRecords(history_change_reason_field=models.TextField(null=True))

    class Meta:
        verbose_name = _("tier override")
        verbose_name_plural = _("tier overrides")

    def __str__(self):
        # In words, never ids: admin messages and history pages show it, also for history rows of
        # an override whose customer has since been deleted.
        try:
            customer = f"{self.customer.code} {self.customer.name}" if self.customer_id else ""
        except ObjectDoesNotExist:
            customer = str(_("deleted customer"))
        tier = self.tier.name if self.tier_id else ""
        return f"{customer} → {tier}"


class TieringSettings(models.Model):
    """Singleton of the tiering knobs an administrator may change (row pk=1, seeded by migration)."""

    grace_runs = models.PositiveSmallIntegerField(
        _("downgrade after N runs below threshold"),
        default=1,
    )
    grace_buffer = models.DecimalField(
        _("downgrade buffer (points)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("Only downgrade when the score is below the threshold by more than this."),
    )
    warning_days_before = models.PositiveSmallIntegerField(_("downgrade warning days before run"), default=14)
    spend_up_percent = models.DecimalField(
        _("flag: spend up by (%)"), max_digits=6, decimal_places=2, default=Decimal("30")
    )
    spend_down_percent = models.DecimalField(
        _("flag: spend down by (%)"), max_digits=6, decimal_places=2, default=Decimal("50")
    )
    complaints_threshold = models.PositiveSmallIntegerField(_("flag: complaints"), default=3)
    complaints_window_days = models.PositiveSmallIntegerField(_("flag: complaints window (days)"), default=90)
    no_order_months = models.PositiveSmallIntegerField(_("flag: months without an order"), default=6)
    prospects_untiered = models.BooleanField(
        _("leave prospects untiered"),
        default=True,
        help_text=_(
            "Prospects (no cooperation date: no deal yet) carry a pipeline grade instead of a tier; runs "
            "leave them out until their first order."
        ),
    )
    # Large enough that per-statement costs vanish, small enough that two workers (or the retier
    # command's threads) overlap one chunk's Python work with another's queries (docs/performance.md).
    chunk_size = models.PositiveIntegerField(_("customers per run chunk"), default=25000)
    lifecycle_new_months = models.PositiveSmallIntegerField(_("lifecycle: new for the first N months"), default=6)
    lifecycle_mature_months = models.PositiveSmallIntegerField(_("lifecycle: mature after N months"), default=24)
    lifecycle_silent_months = models.PositiveSmallIntegerField(
        _("lifecycle: silent after N months without interaction"), default=6
    )
    lifecycle_lost_months = models.PositiveSmallIntegerField(
        _("lifecycle: lost after N months without an order"), default=3
    )
    last_sweep_at = models.DateTimeField(
        _("last re-evaluation sweep"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Orders, surveys and interactions received after this are re-evaluated by the next sweep."),
    )
    # Reasons are sentences people write, longer than simple-history's 100-character default.
    history = HistoricalRecords(history_change_reason_field=models.TextField(null=True))

    class Meta:
        verbose_name = _("tiering settings")
        verbose_name_plural = _("tiering settings")

    def __str__(self):
        return str(_("Tiering settings"))

    @classmethod
    def current(cls) -> "TieringSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj
