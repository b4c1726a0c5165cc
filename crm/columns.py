"""The columns of customer and order files, in one table each.

The customer list's headers, its CSV/XLSX exports, the imports and the import pages' column help
all read these tables, so an exported file imports back and every header reads as the page does.
Labels are the models' verbose names (translated like the rest of the UI); the imports accept a
column's field name, its label in every language of the site and older aliases.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from crm.models import Customer, Order


class Kind(StrEnum):
    KEY = "key"  # names the record: a row with it updates, a row without creates
    EDITABLE = "editable"  # written by an import
    COMPUTED = "computed"  # written by tier runs: exported, and ignored by an import


@dataclass(frozen=True)
class FileColumn:
    name: str
    label: Promise | str
    meaning: Promise | str
    kind: Kind = Kind.EDITABLE
    required: bool = False  # needed by a row that creates a record
    aliases: tuple[str, ...] = ()
    choices: tuple = field(default=(), repr=False)  # (value, label) pairs accepted by value or label

    def headers(self) -> set[str]:
        """Every header that names this column: the field name, the label in each language, the aliases."""
        names = {self.name, *self.aliases}
        for code, _language in settings.LANGUAGES:
            with override(code):
                names.add(str(self.label))
        return names

    def choice_values(self) -> dict[str, str]:
        """{value or label in any language, casefolded: value}, so exported labels import back."""
        found: dict[str, str] = {}
        for value, label in self.choices:
            found[str(value).casefold()] = value
            for code, _language in settings.LANGUAGES:
                with override(code):
                    found.setdefault(str(label).casefold(), value)
        return found


def _label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


def _customer(name: str, meaning, **options) -> FileColumn:
    return FileColumn(name, _label(Customer, name), meaning, **options)


def _computed(name: str, label=None) -> FileColumn:
    return FileColumn(
        name,
        label or _label(Customer, name),
        _("Computed by tier runs; listed in exports and ignored by imports."),
        kind=Kind.COMPUTED,
    )


CUSTOMER_FILE_COLUMNS: tuple[FileColumn, ...] = (
    _customer(
        "code",
        _(
            "The customer's code, e.g. MFG2024001. A row with a code updates that customer; a row without one "
            "creates a customer and gets a new code."
        ),
        kind=Kind.KEY,
        aliases=("customer code", "客户编号", "客户代码"),
    ),
    _customer("name", _("The customer's name."), required=True, aliases=("customer name", "客户名称")),
    _customer(
        "industry",
        _("Industry code (e.g. MFG) or the industry's name. Only tier administrators may change it."),
        required=True,
        aliases=("industry code", "行业代码"),
    ),
    _customer(
        "customer_type",
        _("B2B or B2C. Only tier administrators may change it."),
        required=True,
        aliases=("type", "类型"),
        choices=tuple(Customer.CustomerType.choices),
    ),
    _customer("region", _("Sales region, e.g. 华东."), aliases=("区域",)),
    _customer(
        "company_size",
        _("Company size, by value or label."),
        aliases=("规模",),
        choices=tuple(Customer.CompanySize.choices),
    ),
    _customer(
        "account_manager",
        _(
            "User name of the account manager. Only tier administrators may change it; an account manager's "
            "import is theirs."
        ),
    ),
    _customer(
        "cooperation_since",
        _("Date the cooperation started (YYYY-MM-DD); empty for a prospect. Only tier administrators may change it."),
        aliases=("合作开始日期", "合作起始"),
    ),
    _customer(
        "status",
        _("Active or Terminated; an empty cell keeps the current status."),
        choices=tuple(Customer.Status.choices),
    ),
    _customer(
        "potential_rating",
        _(
            "The account manager's rating of strategic potential, 0-10. A change needs a reason (the import "
            "page's reason field) unless a tier administrator makes it."
        ),
    ),
    _customer(
        "language",
        _("Language of letters sent to the customer; an empty cell keeps the current one."),
        choices=tuple(Customer.Language.choices),
    ),
    _customer("contact_person", _("Name of the contact person.")),
    _customer("contact_phone", _("Contact phone number."), aliases=("电话",)),
    _customer("contact_email", _("Contact e-mail address."), aliases=("email", "邮箱", "电子邮箱")),
    _customer(
        "tax_id",
        _("Tax or ID number; stored encrypted, never exported."),
        aliases=("tax id", "税号", "证件号", "统一社会信用代码"),
    ),
    _customer("bank_account", _("Bank account; stored encrypted, never exported.")),
    _computed("tier"),
    _computed("score"),
    _computed("tier_run", _("Tier run")),
    _computed("lifecycle"),
    _computed("spend_12m"),
    _computed("last_order_at"),
    _computed("figures_as_of"),
    _computed("flags"),
)

ORDER_FILE_COLUMNS: tuple[FileColumn, ...] = (
    FileColumn(
        "customer",
        _label(Order, "customer"),
        _("The customer's code, e.g. MFG2024001."),
        required=True,
        aliases=("customer code", "客户编号", "客户代码"),
    ),
    FileColumn(
        "amount",
        _label(Order, "amount"),
        _("Order amount in yuan, greater than 0."),
        required=True,
        aliases=("订单金额",),
    ),
    FileColumn(
        "ordered_at",
        _label(Order, "ordered_at"),
        _("Order date (YYYY-MM-DD)."),
        required=True,
        aliases=("date", "订单日期"),
    ),
    FileColumn(
        "source",
        _label(Order, "source"),
        _("The system the order comes from, e.g. erp."),
        required=True,
        aliases=("source", "来源"),
    ),
    FileColumn(
        "external_ref",
        _label(Order, "external_ref"),
        _(
            "The order's number in that system. An order already stored under the same source and number is "
            "counted, not stored again."
        ),
        required=True,
        aliases=("order number", "外部单号", "订单号"),
    ),
)


def customer_column(name: str) -> FileColumn:
    return next(column for column in CUSTOMER_FILE_COLUMNS if column.name == name)
