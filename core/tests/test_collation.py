"""Pinyin order of names (core.collation): the sort key SQLite compares with, and ORDER BY on both vendors."""

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Value

from core.collation import Pinyin, pinyin_sort_key

CITIES_IN_PINYIN_ORDER = ["北京", "成都", "重庆", "广州", "上海", "深圳", "天津", "郑州"]


def test_chinese_names_sort_by_pinyin_not_by_code_point():
    assert sorted(CITIES_IN_PINYIN_ORDER) != CITIES_IN_PINYIN_ORDER  # code points put 上海 first
    shuffled = ["上海", "郑州", "北京", "深圳", "重庆", "天津", "成都", "广州"]
    assert sorted(shuffled, key=pinyin_sort_key) == CITIES_IN_PINYIN_ORDER


def test_a_word_reads_by_its_phrase_and_shorter_syllables_come_first():
    # 重庆 is chóng here, not zhòng; shan before shang; a name before its longer namesakes.
    assert sorted(["上海", "山东", "重庆", "北京分公司", "北京"], key=pinyin_sort_key) == [
        "北京",
        "北京分公司",
        "重庆",
        "山东",
        "上海",
    ]


def test_digits_come_before_chinese_and_latin_letters_after_it_ignoring_case():
    names = ["banana", "北京", "Apple", "2号店", "上海", "Zeta"]
    assert sorted(names, key=pinyin_sort_key) == ["2号店", "北京", "上海", "Apple", "banana", "Zeta"]


@pytest.mark.django_db
def test_the_database_orders_by_pinyin(django_user_model):
    """On PostgreSQL through ICU's zh collation, on SQLite through the key above: the same order."""
    users = get_user_model()
    for index, city in enumerate(reversed(CITIES_IN_PINYIN_ORDER)):
        users.objects.create(username=f"u{index}", first_name=city)
    ordered = users.objects.order_by(Pinyin("first_name").asc()).values_list("first_name", flat=True)
    assert list(ordered) == CITIES_IN_PINYIN_ORDER
    after_chengdu = users.objects.alias(key=Pinyin("first_name")).filter(key__gt=Value("成都"))
    assert sorted(after_chengdu.values_list("first_name", flat=True), key=pinyin_sort_key) == CITIES_IN_PINYIN_ORDER[2:]
