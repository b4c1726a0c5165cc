"""Tiers and scoring profiles: the figures an administrator edits. Nothing here is hard-coded."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from scoring.metrics import metric_label


def _reason_field():
    """Change reasons are sentences people write, longer than simple-history's 100-character default."""
    return models.TextField(null=True)


def _localised(obj, field: str) -> str:
    lang = get_language() or ""
    return getattr(obj, f"{field}_en") if lang.startswith("en") else getattr(obj, f"{field}_zh")


class Tier(models.Model):
    code = models.SlugField(_("code"), max_length=20, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True, help_text=_("1 is the highest tier."))
    name_zh = models.CharField(_("name (Chinese)"), max_length=32)
    name_en = models.CharField(_("name (English)"), max_length=32)
    min_score = models.DecimalField(
        _("minimum score"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("A total at or above this score reaches the tier."),
    )
    target_share = models.DecimalField(
        _("target share (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    colour = models.CharField(
        _("colour"),
        max_length=7,
        default="#6b7280",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Colour must look like #1a2b3c."))],
    )
    dedicated_manager = models.BooleanField(_("dedicated account manager"), default=False)
    visit_frequency_zh = models.CharField(_("visit frequency (Chinese)"), max_length=64, blank=True)
    visit_frequency_en = models.CharField(_("visit frequency (English)"), max_length=64, blank=True)
    first_response_minutes = models.PositiveIntegerField(_("first response (minutes)"))
    service_zh = models.TextField(_("service (Chinese)"), blank=True)
    service_en = models.TextField(_("service (English)"), blank=True)
    history = HistoricalRecords(history_change_reason_field=_reason_field())

    class Meta:
        ordering = ["rank"]
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return _localised(self, "name")

    @property
    def visit_frequency(self) -> str:
        return _localised(self, "visit_frequency")

    @property
    def service(self) -> str:
        return _localised(self, "service")


class ScoringProfile(models.Model):
    """A named, versioned rule set. The most specific active profile matching a customer scores it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(_("default profile"), default=False)
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Inactive profiles are drafts."))
    customer_type = models.CharField(
        _("customer type"),
        max_length=3,
        blank=True,
        choices=[("b2b", _("B2B")), ("b2c", _("B2C"))],
        help_text=_("Empty: any customer type."),
    )
    industries = models.ManyToManyField(
        "crm.Industry",
        blank=True,
        related_name="scoring_profiles",
        verbose_name=_("industries"),
        help_text=_("Empty: any industry."),
    )
    # The category split: what the quantitative and the qualitative rules must each add up to.
    # The defaults are the method's 60 / 40; bonus rules sit outside the split.
    quantitative_points = models.DecimalField(
        _("quantitative points"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(60),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("What the quantitative rules add up to. With the qualitative points, exactly 100."),
    )
    qualitative_points = models.DecimalField(
        _("qualitative points"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(40),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("What the qualitative rules add up to. Bonus rules are outside the split."),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(m2m_fields=[industries], history_change_reason_field=_reason_field())

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("scoring profile")
        verbose_name_plural = _("scoring profiles")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_profile",
                violation_error_message=_("Only one scoring profile can be the default."),
            ),
            models.CheckConstraint(
                condition=models.Q(quantitative_points=models.Value(Decimal(100)) - models.F("qualitative_points")),
                name="scoring_profile_split_adds_up_to_100",
                violation_error_message=_("The quantitative and qualitative points must add up to 100."),
            ),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"

    @property
    def split(self) -> dict[str, Decimal]:
        """Points per scored category, keyed like ScoreRule.category."""
        return {
            ScoreRule.Category.QUANTITATIVE: self.quantitative_points,
            ScoreRule.Category.QUALITATIVE: self.qualitative_points,
        }


class ScoreRule(models.Model):
    class Category(models.TextChoices):
        QUANTITATIVE = "quantitative", _("Quantitative")
        QUALITATIVE = "qualitative", _("Qualitative")
        BONUS = "bonus", _("Bonus")

    class Normalisation(models.TextChoices):
        LINEAR = "linear", _("Linear between floor and cap")
        BANDS = "bands", _("Bands of value thresholds")
        PERCENTILE = "percentile", _("Percentile rank in the run")

    class Direction(models.TextChoices):
        HIGHER = "higher", _("Higher is better")
        LOWER = "lower", _("Lower is better")

    profile = models.ForeignKey(ScoringProfile, on_delete=models.CASCADE, related_name="rules")
    metric = models.CharField(_("metric"), max_length=40)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    weight = models.DecimalField(
        _("weight (points)"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    normalisation = models.CharField(
        _("normalisation"), max_length=10, choices=Normalisation.choices, default=Normalisation.LINEAR
    )
    floor = models.DecimalField(_("floor"), max_digits=18, decimal_places=4, null=True, blank=True)
    cap = models.DecimalField(_("cap"), max_digits=18, decimal_places=4, null=True, blank=True)
    bands = models.JSONField(
        _("bands"),
        default=list,
        blank=True,
        help_text=_("Ascending thresholds and the share of the weight each earns, e.g. [[1, 0.5], [3, 1.0]]."),
    )
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices, default=Direction.HIGHER)
    missing_value = models.DecimalField(
        _("value when missing"),
        max_digits=18,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Used when the customer has no data for the metric; empty means the floor."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    history = HistoricalRecords(history_change_reason_field=_reason_field())

    class Meta:
        ordering = ["profile", "position", "id"]
        verbose_name = _("score rule")
        verbose_name_plural = _("score rules")
        constraints = [
            models.CheckConstraint(condition=models.Q(weight__gte=0), name="score_rule_weight_non_negative"),
        ]

    def __str__(self):
        return f"{metric_label(self.metric)} ({self.weight})"  # as admin's rule rows title it


class Backtest(models.Model):
    """A backtest of a rule set against what customers did next, or a weight suggestion.

    Computed by a task (scoring.tasks); nothing else is written while it runs, so a backtest
    never moves a tier, a history row, a notice or a webhook. `parameters` keeps what was asked
    (the as-of date, the draft rules or thresholds, the bounds of a suggestion), `result` the
    report, so a finished backtest reads the same whatever is saved later."""

    class Kind(models.TextChoices):
        BACKTEST = "backtest", _("Backtest")
        SUGGESTION = "suggestion", _("Weight suggestion")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.BACKTEST)
    as_of = models.DateField(_("as of"), help_text=_("Customers are scored with the data up to this day."))
    fit_as_of = models.DateField(
        _("fitted as of"),
        null=True,
        blank=True,
        help_text=_("A suggestion's earlier window, where weights are fitted."),
    )
    profile = models.ForeignKey(
        ScoringProfile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("scoring profile"),
        help_text=_("The profile of the draft or of the suggestion."),
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    stage = models.CharField(_("stage"), max_length=40, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("backtest")
        verbose_name_plural = _("backtests")

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.as_of})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
