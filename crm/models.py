"""Customer records: industries, customers, orders, interactions, satisfaction surveys."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, router, transaction
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.fields import EncryptedTextField

industry_code_validator = RegexValidator(
    r"^[A-Z]{2,4}$", _("Industry code must be 2 to 4 upper-case letters, e.g. EDU or NEV.")
)


class Industry(models.Model):
    code = models.CharField(_("code"), max_length=4, unique=True, validators=[industry_code_validator])
    name_zh = models.CharField(_("name (Chinese)"), max_length=64)
    name_en = models.CharField(_("name (English)"), max_length=64)
    strategic = models.BooleanField(
        _("strategic"), default=False, help_text=_("An industry the company is pushing into.")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("industry")
        verbose_name_plural = _("industries")

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


class CustomerCodeSequence(models.Model):
    """Last sequence number handed out per industry and year; codes are never reused."""

    industry = models.ForeignKey(Industry, on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["industry", "year"], name="customer_code_sequence_unique")]


class CustomerQuerySet(models.QuerySet):
    def delete(self):
        """Lock the customers first, so a tier run writing their history finishes before it is
        deleted (tier history carries no database foreign key; see tiering.models.TierAssignment)."""
        with transaction.atomic(using=self.db):
            locked = self.model.objects.using(self.db).select_for_update().filter(pk__in=self.values("pk"))
            list(locked.values_list("pk"))
            return super().delete()


HISTORY_EXCLUDED_FIELDS = [
    "tax_id",
    "bank_account",
    "tier",
    "computed_tier",
    "score",
    "tiered_at",
    "lifecycle",
    "flags",
    "spend_12m",
    "last_order_at",
    "figures_as_of",
    "runs_below_threshold",
    "updated_at",
]


class Customer(models.Model):
    class CustomerType(models.TextChoices):
        B2B = "b2b", _("B2B")
        B2C = "b2c", _("B2C")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        TERMINATED = "terminated", _("Terminated")

    class CompanySize(models.TextChoices):
        MICRO = "micro", _("Micro (< 10 staff)")
        SMALL = "small", _("Small (10-99)")
        MEDIUM = "medium", _("Medium (100-999)")
        LARGE = "large", _("Large (1,000+)")
        INDIVIDUAL = "individual", _("Individual")

    class Lifecycle(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        NEW = "new", _("New")
        ESTABLISHED = "established", _("Established")
        MATURE = "mature", _("Mature")
        SILENT = "silent", _("Silent")
        LOST = "lost", _("Lost")

    class ProspectGrade(models.TextChoices):
        """The handbooks' pipeline grade of a prospect, set by the account manager."""

        A = "A", _("A: deal expected within 1 month")
        B = "B", _("B: deal expected within 3 months")
        C = "C", _("C: deal expected within 6 months")
        D = "D", _("D: a possible need later")
        E = "E", _("E: no need")

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", _("Simplified Chinese")
        EN = "en", _("English")

    code = models.CharField(_("code"), max_length=20, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    industry = models.ForeignKey(
        Industry, on_delete=models.PROTECT, related_name="customers", verbose_name=_("industry")
    )
    customer_type = models.CharField(_("customer type"), max_length=3, choices=CustomerType.choices)
    region = models.CharField(_("region"), max_length=64, blank=True)
    company_size = models.CharField(_("company size"), max_length=10, choices=CompanySize.choices, blank=True)
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("account manager"),
        db_index=False,  # led by the customer_manager_tier index
    )
    cooperation_since = models.DateField(
        _("cooperating since"), null=True, blank=True, help_text=_("Empty for a prospect with no deal yet.")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    potential_rating = models.PositiveSmallIntegerField(
        _("potential rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        help_text=_("The account manager's rating of strategic potential, 0-10."),
    )
    language = models.CharField(
        _("language"),
        max_length=7,
        choices=Language.choices,
        default=Language.ZH_HANS,
        help_text=_("Language of letters sent to the customer."),
    )
    contact_person = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    tax_id = EncryptedTextField(_("tax or ID number"), blank=True)
    bank_account = EncryptedTextField(_("bank account"), blank=True)

    # Current standing, written by tier runs so lists never recompute it.
    tier = models.ForeignKey(
        "scoring.Tier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("tier"),
        help_text=_("Effective tier: a manual override wins over the score."),
        db_index=True,  # filters lists; changes only when the tier does
        # Tiers are never deleted while customers hold them (PROTECT, checked by the ORM); a run
        # rewrites tens of thousands of tiers, each a database key check at commit.
        db_constraint=False,
    )
    computed_tier = models.ForeignKey(
        "scoring.Tier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("computed tier"),
        db_index=False,  # never filtered on
        db_constraint=False,  # as tier
    )
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True, blank=True)
    tiered_at = models.DateTimeField(_("tiered at"), null=True, blank=True)
    lifecycle = models.CharField(_("lifecycle stage"), max_length=12, choices=Lifecycle.choices, blank=True)
    # A prospect (no cooperation date: no deal yet) carries a pipeline grade instead of a tier.
    prospect_grade = models.CharField(
        _("pipeline grade"),
        max_length=1,
        choices=ProspectGrade.choices,
        blank=True,
        help_text=_("For prospects: how soon a first deal is expected."),
    )
    expected_close_on = models.DateField(_("expected close date"), null=True, blank=True)
    flags = models.JSONField(_("early-warning flags"), default=list, blank=True)
    spend_12m = models.DecimalField(_("12-month spend"), max_digits=16, decimal_places=2, default=Decimal("0"))
    last_order_at = models.DateField(_("last order"), null=True, blank=True)
    # Pages, exports and the API print it beside spend, last order, lifecycle and flags, so a figure
    # never reads as newer than it is. Empty: never computed (a new customer's spend is unknown, not 0).
    figures_as_of = models.DateField(
        _("figures as of"),
        null=True,
        blank=True,
        help_text=_(
            "The day the 12-month spend, last order, lifecycle and flags were computed for: the as-of date "
            "of the tier run or re-evaluation that wrote them."
        ),
    )
    runs_below_threshold = models.PositiveSmallIntegerField(default=0, editable=False)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When the record itself was edited; tier runs set tiered_at and leave this alone, so the
    # API's `updated_since` finds edits while tier changes come from the tier-changes feed.
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    objects = CustomerQuerySet.as_manager()
    # Edits of the record by people and imports (who, when, why): the customer page's "Record
    # changes". Standing written by tier runs is left out (runs keep their own history), and so
    # are the encrypted identifiers, which must not sit in a second table in any form.
    history = HistoricalRecords(
        excluded_fields=HISTORY_EXCLUDED_FIELDS,
        # Reasons are sentences people write, longer than simple-history's 100-character default.
        history_change_reason_field=models.TextField(null=True),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("view_sensitive_fields", _("Can see unmasked tax IDs and bank accounts")),
            ("view_all_customers", _("Can see every customer, not only their own")),
            (
                "change_scoring_inputs",
                _("Can change scoring inputs (industry, customer type, cooperation date, account manager)"),
            ),
        ]
        # A tier run rewrites every customer's standing (score, spend, tier, ...). PostgreSQL can
        # update a row in place (HOT: no new index entries, the fastest write there is) only when
        # no indexed column changed and the page has room: so no index holds a column a run
        # writes except the tier (which moves for few customers), and migration crm 0006 leaves
        # half of each page free. Lists sort a tier's or a manager's rows by score on the fly
        # (measured in docs/performance.md).
        indexes = [
            models.Index(fields=["account_manager", "tier"], name="customer_manager_tier"),
            models.Index(fields=["name"], name="customer_name"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(potential_rating__isnull=True) | Q(potential_rating__lte=10),
                name="customer_potential_rating_range",
                violation_error_message=_("Potential rating must be between 0 and 10."),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def delete(self, using=None, keep_parents=False):
        """Locked first, as CustomerQuerySet.delete does: a tier run writing this customer's history
        commits before the customer and that history go."""
        using = using or router.db_for_write(Customer, instance=self)
        with transaction.atomic(using=using):
            list(Customer.objects.using(using).select_for_update().filter(pk=self.pk).values_list("pk"))
            return super().delete(using=using, keep_parents=keep_parents)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders", verbose_name=_("customer"))
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    ordered_at = models.DateField(_("ordered on"))
    source = models.CharField(_("source system"), max_length=32)
    external_ref = models.CharField(_("external reference"), max_length=64)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        ordering = ["-ordered_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_ref"],
                name="order_source_ref_unique",
                violation_error_message=_("An order with this source and external reference already exists."),
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="order_amount_positive",
                violation_error_message=_("Amount must be greater than 0."),
            ),
        ]
        indexes = [
            # Covering index for the 12-month spend/count aggregation (index-only scan on PostgreSQL).
            models.Index(fields=["customer", "ordered_at"], include=["amount"], name="order_customer_date_cov"),
        ]

    def __str__(self):
        return f"{self.source}:{self.external_ref}"


class Interaction(models.Model):
    class Kind(models.TextChoices):
        VISIT = "visit", _("Visit")
        CALL = "call", _("Call")
        EMAIL = "email", _("Email")
        INQUIRY = "inquiry", _("Inquiry")
        COMPLAINT = "complaint", _("Complaint")
        MEETING = "meeting", _("Meeting")
        REFERRAL = "referral", _("Referral")
        SOCIAL_SHARE = "social_share", _("Social share")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="interactions", verbose_name=_("customer")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    occurred_at = models.DateField(_("date"))
    # The moment, when the person logging it gave one (the date alone feeds the metrics).
    happened_at = models.DateTimeField(_("date and time"), null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [models.Index(fields=["customer", "kind", "occurred_at"], name="interaction_customer_kind")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.occurred_at}"


# How the survey channels that people and systems send read. The channel stays free text, stored
# as sent (no choices, no migration): one without a label here shows as stored.
SURVEY_CHANNEL_LABELS = {
    "email": _("Email"),
    "phone": _("Phone"),
    "wechat": _("WeChat"),
    "visit": _("Visit"),
    "case": _("Service case"),  # satisfaction given when a service case closes (commitments)
}


class SatisfactionSurvey(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="surveys", verbose_name=_("customer"))
    score = models.DecimalField(
        _("score"),
        max_digits=3,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("5"))],
    )
    surveyed_at = models.DateField(_("surveyed on"))
    channel = models.CharField(_("channel"), max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-surveyed_at", "-id"]
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5),
                name="survey_score_range",
                violation_error_message=_("Survey score must be between 1 and 5."),
            ),
        ]
        indexes = [models.Index(fields=["customer", "surveyed_at"], include=["score"], name="survey_customer_date")]

    def __str__(self):
        return f"{self.score} {self.surveyed_at}"

    def get_channel_display(self) -> str:
        """The channel as people read it, in the active language (SURVEY_CHANNEL_LABELS)."""
        return str(SURVEY_CHANNEL_LABELS.get(self.channel, self.channel))
