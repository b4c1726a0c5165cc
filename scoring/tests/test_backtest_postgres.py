"""On PostgreSQL a backtest reads its metric tables through binary COPY: its report is the one
the portable ORM path gives, and the queries stay few whatever the number of customers."""

import pytest
from django.db import connection

from scoring import backtest_services, metrics
from scoring.metrics import portable as portable_path
from scoring.tests.test_backtest_services import TODAY, T, make_book

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="compares the PostgreSQL path with the portable one"),
]


def run():
    row = backtest_services.backtest_create(as_of=T, today=TODAY, thresholds={"core": 80})
    return backtest_services.backtest_run(row.pk)


def test_the_report_is_the_portable_paths(db, monkeypatch, django_assert_max_num_queries):
    book = make_book()
    with django_assert_max_num_queries(40):
        fast = run()
    assert fast.status == "succeeded"

    def portable(customers, as_of, *, complaints_window_days=90):
        return metrics._metric_table_by(portable_path, customers, as_of, complaints_window_days=complaints_window_days)

    monkeypatch.setattr("scoring.selectors.metric_table", portable)
    slow = run()
    assert slow.result == fast.result
    assert fast.result["sides"]["current"]["misplaced"]["rising"][0]["code"] == book["riser"].code
