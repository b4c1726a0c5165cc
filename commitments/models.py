"""Service commitments: business calendars, each tier's response clock, cases with their SLA
clocks, playbooks that turn tier events into tasks, and the record that each step ran once."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class BusinessCalendar(models.Model):
    """Working hours, working weekdays, public holidays and make-up working days."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    work_start = models.TimeField(_("working hours start"), default=datetime.time(9, 0))
    work_end = models.TimeField(_("working hours end"), default=datetime.time(18, 0))
    weekdays = models.CharField(
        _("working weekdays"),
        max_length=7,
        default="12345",
        help_text=_("Digits of the working weekdays, 1 = Monday ... 7 = Sunday; e.g. 12345."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self):
        return self.name

    def clean(self):
        import zoneinfo

        errors = {}
        if self.work_start is not None and self.work_end is not None and self.work_end <= self.work_start:
            errors["work_end"] = _("Working hours must end after they start: a calendar needs working time.")
        digits = set(self.weekdays or "")
        if not digits or not digits <= set("1234567"):
            errors["weekdays"] = _("Give at least one working weekday as digits 1 (Monday) to 7 (Sunday).")
        try:
            zoneinfo.ZoneInfo(self.time_zone or "")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["time_zone"] = _("Unknown time zone %(zone)r.") % {"zone": self.time_zone}
        if errors:
            raise ValidationError(errors)


class CalendarDay(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday")
        WORKDAY = "workday", _("Make-up working day")

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="days", verbose_name=_("business calendar")
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=7, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="calendarday_unique")]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"


class ServiceLevel(models.Model):
    """How a tier's first-response time runs: around the clock or in a calendar's business hours.
    The row without a tier serves customers who have none (prospects) with its own minutes."""

    class Clock(models.TextChoices):
        ALWAYS = "24x7", _("Around the clock (24×7)")
        BUSINESS = "business", _("Business hours")

    tier = models.OneToOneField(
        "scoring.Tier",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="service_level",
        verbose_name=_("tier"),
        help_text=_("Empty: customers without a tier (prospects)."),
    )
    clock = models.CharField(_("clock"), max_length=8, choices=Clock.choices, default=Clock.BUSINESS)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("business calendar")
    )
    response_minutes = models.PositiveIntegerField(
        _("first response (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Only for customers without a tier; a tier's own first-response time applies to it."),
    )

    class Meta:
        verbose_name = _("service level")
        verbose_name_plural = _("service levels")

    def __str__(self):
        return str(self.tier) if self.tier_id else str(_("Customers without a tier"))

    def clean(self):
        errors = {}
        if self.clock == self.Clock.BUSINESS and self.calendar_id is None:
            errors["calendar"] = _("A business-hours clock needs a business calendar.")
        if self.tier_id is None and not self.response_minutes:
            errors["response_minutes"] = _("Customers without a tier need a first-response time.")
        if self.tier_id is None and ServiceLevel.objects.filter(tier__isnull=True).exclude(pk=self.pk).exists():
            errors["tier"] = _("There is already a service level for customers without a tier.")
        if errors:
            raise ValidationError(errors)


class Case(models.Model):
    """A customer's request, complaint or incident, and the clock its tier promised."""

    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        REQUEST = "request", _("Request")
        INCIDENT = "incident", _("Incident")

    class Severity(models.IntegerChoices):
        LOW = 1, _("Low")
        NORMAL = 2, _("Normal")
        HIGH = 3, _("High")
        CRITICAL = 4, _("Critical")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        WECHAT = "wechat", _("WeChat")
        WEB = "web", _("Web form")
        VISIT = "visit", _("In person")
        API = "api", _("Other system")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Satisfaction(models.TextChoices):
        A = "A", _("A: very satisfied")
        B = "B", _("B: satisfied")
        C = "C", _("C: neutral")
        D = "D", _("D: dissatisfied")
        E = "E", _("E: very dissatisfied")

    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.CASCADE, related_name="cases", verbose_name=_("customer")
    )
    kind = models.CharField(_("kind"), max_length=9, choices=Kind.choices)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices, default=Severity.NORMAL)
    channel = models.CharField(_("channel"), max_length=6, choices=Channel.choices, default=Channel.PHONE)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases", verbose_name=_("owner")
    )
    status = models.CharField(_("status"), max_length=11, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("opened"))
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    # How long the first response took on the case's own clock (business seconds on a business-
    # hours clock), so the results compare it with the promise in the promise's units.
    first_response_seconds = models.PositiveIntegerField(
        _("first response took (seconds on the case's clock)"), null=True, blank=True
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=1, choices=Satisfaction.choices, blank=True)
    survey = models.OneToOneField(
        "crm.SatisfactionSurvey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="case",
        verbose_name=_("satisfaction survey"),
    )
    # The complaint activity this case is (one complaint, counted once for the early warning).
    activity = models.OneToOneField(
        "crm.Interaction",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="case",
        verbose_name=_("complaint activity"),
    )
    # The clock, fixed at opening from the tier the customer had then.
    tier = models.ForeignKey(
        "scoring.Tier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tier at opening"),
    )
    response_minutes = models.PositiveIntegerField(_("first response within (minutes)"))
    clock = models.CharField(_("clock"), max_length=8, choices=ServiceLevel.Clock.choices)
    first_response_due_at = models.DateTimeField(_("first response due"))
    reminder_at = models.DateTimeField(_("reminder at"))
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("opened by")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        # The results per tier (figures over orders, cases, contact plans and playbook tasks): seen
        # by the roles that serve customers, each over the customers they see.
        permissions = [("view_results", _("Can view the results per tier"))]
        indexes = [
            # The sweep: cases still waiting for a first response, by their next moment.
            models.Index(
                fields=["reminder_at"],
                condition=Q(first_response_at__isnull=True, reminded_at__isnull=True),
                name="case_reminder_due",
            ),
            models.Index(
                fields=["first_response_due_at"],
                condition=Q(first_response_at__isnull=True, breached_at__isnull=True),
                name="case_breach_due",
            ),
            models.Index(fields=["customer", "status"], name="case_customer_status"),
            models.Index(fields=["owner", "status"], name="case_owner_status"),
            models.Index(fields=["opened_at"], name="case_opened"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.IN_PROGRESS)

    @property
    def met_first_response(self) -> bool | None:
        if self.first_response_at is None:
            return None
        return self.first_response_at <= self.first_response_due_at


class CaseReply(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="replies", verbose_name=_("case"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("author")
    )
    body = models.TextField(_("reply"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("case reply")
        verbose_name_plural = _("case replies")


class Playbook(models.Model):
    """What to do, per tier, when a tier event happens; its steps become tasks."""

    class Event(models.TextChoices):
        UPGRADED_INTO = "upgraded_into", _("Upgraded into the tier")
        DOWNGRADED_INTO = "downgraded_into", _("Downgraded into the tier")
        BECAME_DORMANT = "became_dormant", _("Became dormant")
        WARNING_SPEND_UP = "warning_spend_up", _("Early warning: spend up")
        WARNING_SPEND_DOWN = "warning_spend_down", _("Early warning: spend down")
        WARNING_COMPLAINTS = "warning_complaints", _("Early warning: complaints")
        WARNING_NO_ORDER = "warning_no_order", _("Early warning: no order")
        CASE_BREACHED = "case_breached", _("Case first response breached")
        PROSPECT_GRADE_A = "prospect_grade_a", _("Prospect reached grade A")

    tier = models.ForeignKey(
        "scoring.Tier",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="playbooks",
        verbose_name=_("tier"),
        help_text=_("Empty: any tier."),
    )
    event = models.CharField(_("event"), max_length=20, choices=Event.choices)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["event", "tier__rank"]
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")

    def __str__(self):
        return self.name


class PlaybookStep(models.Model):
    class OwnerRole(models.TextChoices):
        ACCOUNT_MANAGER = "account_manager", _("Account manager")
        SERVICE_TEAM = "service_team", _("Service team")
        TIER_ADMIN = "tier_admin", _("Tier administrator")

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps", verbose_name=_("playbook"))
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    goal = models.CharField(_("goal"), max_length=200)
    action = models.CharField(_("action"), max_length=200)
    owner_role = models.CharField(
        _("owner"), max_length=15, choices=OwnerRole.choices, default=OwnerRole.ACCOUNT_MANAGER
    )
    due_days = models.PositiveIntegerField(
        _("due in (days)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(3650)],
        help_text=_("Empty: within the tier's first-response time."),
    )
    contact_kind = models.CharField(_("contact to record"), max_length=12, blank=True)
    kpi = models.CharField(_("KPI it serves"), max_length=200, blank=True)

    class Meta:
        ordering = ["playbook", "position", "id"]
        verbose_name = _("playbook step")
        verbose_name_plural = _("playbook steps")

    def __str__(self):
        return self.action


class PlaybookTaskLink(models.Model):
    """That a step ran for a customer and an event: the unique key makes it exactly once, also
    across a forced rerun (the event key names the period, not the run) and two workers."""

    step = models.ForeignKey(PlaybookStep, on_delete=models.CASCADE, related_name="links")
    customer = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    event_key = models.CharField(max_length=100)
    task = models.OneToOneField(
        "service.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="playbook_link"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["step", "customer", "event_key"], name="playbooklink_once")]


class PlaybookCursor(models.Model):
    """Singleton (pk=1): the last notice whose events the playbooks have seen."""

    last_notice_id = models.BigIntegerField(default=0)
