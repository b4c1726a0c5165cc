"""The benchmark's bare-SQL comparison writes what it claims and leaves the data as it was."""


import pytest
from django.db import connection

from bench import harness
from bench.generate import generate
from core.tests.clock import AS_OF
from crm.models import Customer
from tiering.models import TierAssignment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_required_writes_cover_every_customer_and_are_rolled_back():
    if connection.vendor != "postgresql":
        pytest.skip("the comparison is measured on PostgreSQL only: run make test")
    generate(customers=300, as_of=AS_OF, seed=2, verbose=False)
    standing = list(Customer.objects.order_by("id").values_list("id", "score", "spend_12m", "tiered_at"))
    results = harness.Results()
    harness.measure_required_writes(results, as_of=AS_OF, floor=0.01, repetitions=2)
    row = results.rows[-1]
    assert row.name.startswith("2b.") and row.value.endswith(" s")
    assert "300 history rows" in row.note
    assert list(Customer.objects.order_by("id").values_list("id", "score", "spend_12m", "tiered_at")) == standing
    assert not TierAssignment.objects.exists()
