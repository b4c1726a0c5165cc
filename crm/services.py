"""Writes to customer records. Views, the API, imports and commands all come through here."""

from django.db import transaction

from crm.models import CustomerCodeSequence, Industry


def _sequence_reserve(*, industry: Industry, year: int, count: int) -> int:
    """Reserve `count` numbers; returns the first. Row lock makes concurrent creators wait, never collide."""
    with transaction.atomic():
        CustomerCodeSequence.objects.get_or_create(industry=industry, year=year)
        sequence = CustomerCodeSequence.objects.select_for_update().get(industry=industry, year=year)
        first = sequence.last_value + 1
        sequence.last_value += count
        sequence.save(update_fields=["last_value"])
    return first


def customer_code_format(*, industry_code: str, year: int, number: int) -> str:
    return f"{industry_code}{year}{number:03d}"


def customer_code_next(*, industry: Industry, year: int) -> str:
    number = _sequence_reserve(industry=industry, year=year, count=1)
    return customer_code_format(industry_code=industry.code, year=year, number=number)


def customer_codes_reserve(*, industry: Industry, year: int, count: int) -> list[str]:
    """A block of codes for bulk creation (imports, demo data) in one locked update."""
    first = _sequence_reserve(industry=industry, year=year, count=count)
    return [customer_code_format(industry_code=industry.code, year=year, number=n) for n in range(first, first + count)]
