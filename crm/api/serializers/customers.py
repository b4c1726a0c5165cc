"""Customers as other systems see them: addressed by code, sensitive fields masked unless permitted."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.access import sensitive_value_for
from core.api.serializers import StrictInputSerializer, date_in_range
from crm.models import Customer
from crm.selectors import tier_run_of
from crm.services import REASON_MAX_LENGTH


class ServiceLevelSerializer(serializers.Serializer):
    dedicated_manager = serializers.BooleanField()
    first_response_minutes = serializers.IntegerField()
    visit_frequency = serializers.CharField()
    service = serializers.CharField()


class TierOverrideOutSerializer(serializers.Serializer):
    tier = serializers.CharField(source="tier.code")
    reason = serializers.CharField()
    expires = serializers.DateField(source="expires_on", allow_null=True)
    set_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    set_at = serializers.DateTimeField(source="created_at")


def tier_override_of(customer):
    try:
        return customer.tier_override
    except Customer.tier_override.RelatedObjectDoesNotExist:
        return None


class CustomerSerializer(serializers.ModelSerializer):
    industry = serializers.CharField(source="industry.code")
    industry_name = serializers.CharField(source="industry.name")
    account_manager = serializers.CharField(source="account_manager.username", default=None, allow_null=True)
    tier = serializers.CharField(source="tier.code", default=None, allow_null=True)
    tier_name = serializers.CharField(source="tier.name", default=None, allow_null=True)
    computed_tier = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True, coerce_to_string=False)
    spend_12m = serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=False)
    flags = serializers.ListField(child=serializers.CharField())
    # Output-only fields that may be blank: declared so the schema admits "" as well as the choices.
    company_size = serializers.ChoiceField(choices=Customer.CompanySize.choices, allow_blank=True)
    lifecycle = serializers.ChoiceField(choices=Customer.Lifecycle.choices, allow_blank=True)
    contact_email = serializers.CharField(allow_blank=True)
    tier_override = serializers.SerializerMethodField()
    service_level = serializers.SerializerMethodField()
    tax_id = serializers.SerializerMethodField()
    bank_account = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = [
            "code",
            "name",
            "industry",
            "industry_name",
            "customer_type",
            "region",
            "company_size",
            "account_manager",
            "cooperation_since",
            "status",
            "potential_rating",
            "language",
            "contact_person",
            "contact_phone",
            "contact_email",
            "tax_id",
            "bank_account",
            "tier",
            "tier_name",
            "computed_tier",
            "score",
            "tiered_at",
            "tier_override",
            "lifecycle",
            "flags",
            "service_level",
            "spend_12m",
            "last_order_at",
            "figures_as_of",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "figures_as_of": {
                "help_text": _(
                    "The day spend_12m, last_order_at, lifecycle and flags were computed for (a tier run's or a "
                    "re-evaluation's as-of date); null when they have never been computed."
                )
            }
        }

    @extend_schema_field(TierOverrideOutSerializer(allow_null=True))
    def get_tier_override(self, customer):
        override = tier_override_of(customer)
        return TierOverrideOutSerializer(override).data if override else None

    @extend_schema_field(ServiceLevelSerializer(allow_null=True))
    def get_service_level(self, customer):
        tier = customer.tier
        if tier is None:
            return None
        return {
            "dedicated_manager": tier.dedicated_manager,
            "first_response_minutes": tier.first_response_minutes,
            "visit_frequency": tier.visit_frequency,
            "service": tier.service,
        }

    def _sensitive(self, value: str) -> str:
        return sensitive_value_for(getattr(self.context.get("request"), "user", None), value)

    @extend_schema_field(serializers.CharField(help_text=_("Masked unless the user may see sensitive fields.")))
    def get_tax_id(self, customer):
        return self._sensitive(customer.tax_id)

    @extend_schema_field(serializers.CharField(help_text=_("Masked unless the user may see sensitive fields.")))
    def get_bank_account(self, customer):
        return self._sensitive(customer.bank_account)


class TierRunOutSerializer(serializers.Serializer):
    period = serializers.CharField()
    as_of = serializers.DateField()


class CustomerDetailSerializer(CustomerSerializer):
    """One customer, with the tier run its score and tier come from."""

    tier_run = serializers.SerializerMethodField()

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "tier_run"]
        read_only_fields = fields

    @extend_schema_field(
        TierRunOutSerializer(
            allow_null=True, help_text=_("The tier run that computed score and tier; null: never tiered.")
        )
    )
    def get_tier_run(self, customer):
        run = tier_run_of(customer)
        return {"period": run.period, "as_of": run.as_of} if run else None


class AccountManagerField(serializers.CharField):
    """A username in, a user out; unknown or inactive usernames are field errors."""

    def run_validation(self, data=serializers.empty):
        username = super().run_validation(data)
        if username is None:
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(_("Unknown user %(username)r.") % {"username": username})
        return user


class CustomerWriteSerializer(StrictInputSerializer):
    """Fields another system may set. Validation of the record as a whole happens in crm.services."""

    name = serializers.CharField(max_length=200)
    industry = serializers.CharField(max_length=4, help_text=_("Industry code, e.g. MFG."))
    customer_type = serializers.ChoiceField(choices=Customer.CustomerType.choices)
    region = serializers.CharField(max_length=64, required=False, allow_blank=True)
    company_size = serializers.ChoiceField(choices=Customer.CompanySize.choices, required=False, allow_blank=True)
    account_manager = AccountManagerField(
        max_length=150, required=False, allow_null=True, help_text=_("Username of the account manager.")
    )
    cooperation_since = serializers.DateField(required=False, allow_null=True, validators=[date_in_range])
    status = serializers.ChoiceField(choices=Customer.Status.choices, required=False)
    potential_rating = serializers.IntegerField(min_value=0, max_value=10, required=False, allow_null=True)
    language = serializers.ChoiceField(choices=Customer.Language.choices, required=False)
    contact_person = serializers.CharField(max_length=100, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    contact_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    tax_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    bank_account = serializers.CharField(max_length=64, required=False, allow_blank=True)
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text=_(
            "Why the record changes, kept in its history. Needed when someone other than a tier administrator "
            "changes potential_rating."
        ),
    )
