"""The service side of the method: how often each tier is contacted, what account managers plan
to do next (tasks), where each customer stands against its contact plan, and letters sent."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import Interaction

# The method's visit plans: what counts as having been in touch.
DEFAULT_CONTACT_KINDS = [
    Interaction.Kind.VISIT,
    Interaction.Kind.CALL,
    Interaction.Kind.MEETING,
    Interaction.Kind.EMAIL,
]


def default_contact_kinds() -> list[str]:
    return [str(kind) for kind in DEFAULT_CONTACT_KINDS]


class ContactPlan(models.Model):
    """A tier's contact cadence: every N days, or (dormant) one win-back contact within N days of
    entering the tier. Edited by administrators beside the tier's service texts."""

    tier = models.OneToOneField(
        "scoring.Tier", on_delete=models.CASCADE, related_name="contact_plan", verbose_name=_("tier")
    )
    every_days = models.PositiveIntegerField(
        _("contact every (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty for a tier served by one win-back contact instead."),
    )
    win_back_days = models.PositiveIntegerField(
        _("win-back contact within (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("One contact within this many days of the customer entering the tier (dormant customers)."),
    )
    contact_kinds = models.JSONField(
        _("activities that count as contact"),
        default=default_contact_kinds,
        help_text=_("Kinds of activity that count as contact: visit, call, meeting, email, ..."),
    )

    class Meta:
        ordering = ["tier__rank"]
        verbose_name = _("contact plan")
        verbose_name_plural = _("contact plans")
        constraints = [
            models.CheckConstraint(
                condition=(Q(every_days__isnull=False) & Q(win_back_days__isnull=True) & Q(every_days__gte=1))
                | (Q(every_days__isnull=True) & Q(win_back_days__isnull=False) & Q(win_back_days__gte=1)),
                name="contactplan_one_cadence",
                violation_error_message=_("Give either a cadence in days or a win-back window, of at least 1 day."),
            )
        ]

    def __str__(self):
        return str(self.tier)

    def clean(self):
        errors = {}
        if self.every_days is None and self.win_back_days is None:
            errors["every_days"] = _("Give a cadence in days, or a win-back window.")
        if self.every_days is not None and self.win_back_days is not None:
            errors["win_back_days"] = _("Give a cadence or a win-back window, not both.")
        for name in ("every_days", "win_back_days"):
            value = getattr(self, name)
            if value is not None and value < 1:
                errors[name] = _("At least 1 day.")
        kinds = self.contact_kinds
        valid = set(Interaction.Kind.values)
        if not isinstance(kinds, list) or not kinds:
            errors["contact_kinds"] = _("Choose at least one kind of activity.")
        elif unknown := [kind for kind in kinds if kind not in valid]:
            errors["contact_kinds"] = _("Unknown kinds %(kinds)s; expected some of %(valid)s.") % {
                "kinds": ", ".join(map(str, unknown)),
                "valid": ", ".join(sorted(valid)),
            }
        if errors:
            raise ValidationError(errors)


class ContactStatus(models.Model):
    """Where a customer stands against its tier's contact plan, kept current by the service side
    (after each activity, run, override and plan change), so due lists never recompute it."""

    customer = models.OneToOneField(
        "crm.Customer", on_delete=models.CASCADE, primary_key=True, related_name="contact_status"
    )
    tier = models.ForeignKey(
        "scoring.Tier", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    last_contact_on = models.DateField(_("last contact"), null=True, blank=True)
    tier_since = models.DateField(_("in this tier since"), null=True, blank=True)
    # Empty: nothing due (a dormant customer already won back).
    due_on = models.DateField(_("next contact due"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact status")
        verbose_name_plural = _("contact statuses")
        indexes = [
            models.Index(fields=["due_on"], name="contactstatus_due"),
            models.Index(fields=["tier", "due_on"], name="contactstatus_tier_due"),
        ]


class Task(models.Model):
    """A follow-up someone will do: a future contact is planned here, never stored as an activity."""

    class Priority(models.IntegerChoices):
        LOW = 1, _("Low")
        NORMAL = 2, _("Normal")
        HIGH = 3, _("High")
        URGENT = 4, _("Urgent")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        NOTICE = "notice", _("Notice")
        WARNING = "warning", _("Early warning")
        LETTER = "letter", _("Letter")
        PLAYBOOK = "playbook", _("Playbook")

    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.CASCADE, related_name="tasks", verbose_name=_("customer")
    )
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_tasks", verbose_name=_("owner")
    )
    due_at = models.DateTimeField(_("due"))
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=9, choices=Status.choices, default=Status.OPEN)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.MANUAL)
    # A contact task records this kind of activity when completed.
    contact_kind = models.CharField(_("contact to record"), max_length=12, choices=Interaction.Kind.choices, blank=True)
    notice = models.ForeignKey(
        "tiering.Notice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        db_constraint=False,
        verbose_name=_("notice"),
    )
    # Which next step of the notice (or playbook step) this task is: each is planned once.
    step = models.CharField(_("step"), max_length=40, blank=True)
    note = models.TextField(_("note"), blank=True)
    completion_note = models.TextField(_("completion note"), blank=True)
    activity = models.OneToOneField(
        Interaction,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="task",
        verbose_name=_("activity recorded"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["owner", "status", "due_at"], name="task_owner_open_due"),
            models.Index(fields=["customer", "status"], name="task_customer_status"),
            models.Index(fields=["status", "due_at"], name="task_status_due"),
            # The task list's default order (soonest due first) for those who see every customer.
            models.Index(fields=["due_at", "id"], name="task_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "step"],
                condition=Q(notice__isnull=False) & ~Q(step=""),
                name="task_notice_step_unique",
                violation_error_message=_("This next step has already been planned."),
            )
        ]

    def __str__(self):
        return self.title


class LetterDispatch(models.Model):
    """A downgrade letter sent to the customer: printed and posted, or e-mailed from here."""

    class Method(models.TextChoices):
        PRINT = "print", _("Printed or sent by hand")
        EMAIL = "email", _("E-mailed from the CRM")

    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.CASCADE, related_name="letters_sent", verbose_name=_("customer")
    )
    change = models.ForeignKey(
        "tiering.TierChange",
        on_delete=models.CASCADE,
        related_name="letters_sent",
        db_constraint=False,
        verbose_name=_("tier change"),
    )
    method = models.CharField(_("method"), max_length=5, choices=Method.choices)
    email_to = models.EmailField(_("e-mailed to"), blank=True)
    language = models.CharField(_("language"), max_length=7, blank=True)
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("letter sent")
        verbose_name_plural = _("letters sent")
        indexes = [models.Index(fields=["customer", "-sent_at"], name="letter_customer_sent")]

    def __str__(self):
        return f"{self.customer_id} {self.get_method_display()} {self.sent_at:%Y-%m-%d}"
