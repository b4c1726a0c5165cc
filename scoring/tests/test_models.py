"""The category split as the database keeps it, and how the migration gave existing profiles theirs."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from scoring.models import ScoreRule, ScoringProfile

split_migration = importlib.import_module("scoring.migrations.0004_category_split_and_change_reasons")


def test_the_database_refuses_a_split_that_does_not_add_up_to_100(default_profile):
    with pytest.raises(IntegrityError), transaction.atomic():
        ScoringProfile.objects.filter(pk=default_profile.pk).update(quantitative_points=65)
    assert ScoringProfile.objects.get(pk=default_profile.pk).split == {"quantitative": 60, "qualitative": 40}


def test_existing_profiles_get_the_split_their_rules_have(default_profile):
    other = ScoringProfile.objects.create(name="Spend heavy")
    for metric, category, weight in (
        ("spend_12m", "quantitative", 70),
        ("tenure_years", "qualitative", 30),
        ("referrals_12m", "bonus", 5),
    ):
        ScoreRule.objects.create(profile=other, metric=metric, category=category, weight=weight, floor=0, cap=1)
    broken = ScoringProfile.objects.create(name="Broken")  # rules that add up to 90 keep the method's 60 / 40
    ScoreRule.objects.create(profile=broken, metric="spend_12m", category="quantitative", weight=90, floor=0, cap=1)

    split_migration.split_from_rules(apps, None)

    splits = {p.name: (p.quantitative_points, p.qualitative_points) for p in ScoringProfile.objects.all()}
    assert splits == {"Default": (60, 40), "Spend heavy": (70, 30), "Broken": (60, 40)}
    assert set(other.history.values_list("quantitative_points", flat=True)) == {Decimal(70)}
