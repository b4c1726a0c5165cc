"""Words for the early-warning flag codes a tier run writes on customers."""

from django.utils.translation import gettext_lazy as _

from tiering.decide import FLAG_COMPLAINTS, FLAG_NO_ORDER, FLAG_SPEND_DOWN, FLAG_SPEND_UP

FLAG_LABELS = {
    FLAG_SPEND_UP: _("Spend up sharply"),
    FLAG_SPEND_DOWN: _("Spend down sharply"),
    FLAG_COMPLAINTS: _("Repeated complaints"),
    FLAG_NO_ORDER: _("No recent orders"),
}


def flag_label(code: str) -> str:
    return str(FLAG_LABELS.get(code, code))
