"""Deterministic, realistic demo data: `python manage.py seed_demo [--customers N] [--seed S]`.

Spend is long-tailed (a few customers buy most), some customers have gone quiet, a few complain
a lot and a few bring referrals, so every tier and early-warning flag has examples. Dates are
relative to today; the same --seed on the same day gives the same data. Tier fields are left
empty: `python manage.py retier` computes them, as in production.
"""

import datetime
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from core.clock import local_today
from crm.models import Customer, Industry, Interaction, Order, SatisfactionSurvey
from crm.services import customer_codes_reserve
from scoring.models import ScoringProfile
from scoring.services import profile_rules_update
from web import demo_cases, demo_service

CHUNK = 5000
B2C_PROFILE_NAME = "B2C (demo)"
B2C_RULES = [
    {"metric": "spend_12m", "category": "quantitative", "weight": 30, "normalisation": "linear", "floor": 0, "cap": 8000},
    {"metric": "orders_12m", "category": "quantitative", "weight": 20, "normalisation": "linear", "floor": 0, "cap": 24},
    {"metric": "avg_order_value_12m", "category": "quantitative", "weight": 10, "normalisation": "linear", "floor": 0,
     "cap": 300},
    {"metric": "tenure_years", "category": "qualitative", "weight": 15, "normalisation": "linear", "floor": 0, "cap": 5},
    {"metric": "satisfaction_12m", "category": "qualitative", "weight": 15, "normalisation": "linear", "floor": 1,
     "cap": 5, "missing_value": 3},
    {"metric": "strategic_potential", "category": "qualitative", "weight": 10, "normalisation": "linear", "floor": 0,
     "cap": 10},
    {"metric": "social_shares_12m", "category": "bonus", "weight": 5, "normalisation": "linear", "floor": 0, "cap": 5},
]
HISTORY_DAYS = 730
# Orders go back three years (at the same yearly rate), so a backtest one year back has a full
# year before it and a weight suggestion a fit window a year earlier still.
ORDER_HISTORY_DAYS = 1095

LOGINS = [
    # username, password, role, superuser, group
    ("admin", "admin12345", "superuser", True, None),
    ("manager1", "manager12345", "account manager", False, "Account managers"),
    ("manager2", "manager12345", "account manager", False, "Account managers"),
    # Changes industries, customer types, cooperation dates and managers (crm.change_scoring_inputs).
    ("tieradmin", "tieradmin12345", "tier administrator", False, "Tier administrators"),
    ("integration", "integration12345", "API integration", False, "Integrations"),
]
STAFF_GROUPS = {"Account managers", "Tier administrators"}

CITIES = ["上海", "北京", "深圳", "杭州", "苏州", "南京", "成都", "武汉", "广州", "西安", "天津", "重庆", "合肥", "青岛"]
REGIONS = ["华东", "华北", "华南", "华中", "西南", "西北", "东北"]
WORDS = ["华瑞", "恒通", "鼎盛", "远航", "天成", "瑞丰", "宏图", "金桥", "新源", "博雅", "嘉禾", "万象", "启明", "永信",
         "凯达", "汇智", "锦程", "中科", "同创", "海纳"]
TRADES = {
    "MFG": "精密制造", "IT": "信息科技", "RET": "商贸", "EDU": "教育科技", "FIN": "投资管理", "MED": "医疗器械",
    "NEV": "新能源", "LOG": "物流", "CON": "建设工程", "AGR": "农业发展",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
SIZES_B2B = [("micro", 0.5, 20), ("small", 1.0, 40), ("medium", 1.8, 28), ("large", 3.5, 12)]
NOTES = {
    "visit": "上门拜访，沟通年度采购计划",
    "call": "电话回访，客户反馈良好",
    "email": "发送新品资料",
    "inquiry": "询价：批量采购报价",
    "complaint": "投诉：交付延迟",
    "referral": "推荐新客户",
    "social_share": "在社交媒体分享了产品",
}


@dataclass
class Plan:
    """What one demo customer will look like, decided before anything is written."""

    index: int
    industry: Industry
    customer_type: str
    company_size: str
    size_factor: float
    quality: float  # latent value: drives frequency, order size and satisfaction
    since: datetime.date | None
    active_until: datetime.date | None  # last possible order date (quiet customers stop early)
    manager_slot: int  # 0, 1, or 2 (unassigned)
    rng_seed: int


class Command(BaseCommand):
    help = "Load deterministic demo data: industries' customers, 36 months of orders, surveys, interactions."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=500, help="number of customers (default 500)")
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if customers already exist")
        parser.add_argument(
            "--after-runs",
            action="store_true",
            help="only the workbench demo that needs tier runs (a letter sent, next steps planned); run after retier",
        )

    def handle(self, *args, customers: int, seed: int, if_empty: bool, **options):
        if customers < 0:
            raise CommandError("--customers must be 0 or more")
        if options.get("after_runs"):
            done = demo_service.after_runs(self._users())
            self.stdout.write(f"Workbench demo: {done['letters']} letter(s) sent, {done['steps']} next step(s) planned.")
            cases = demo_cases.cases_seed(self._users(), timezone.now())  # needs tiers: after the runs
            self.stdout.write(f"Cases demo: {cases} case(s) opened.")
            return
        if if_empty and Customer.objects.exists():
            self.stdout.write("Customers already exist; demo data not loaded again.")
            self._print_logins()
            return
        started = time.monotonic()
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            with connection.cursor() as cursor:  # a demo load need not survive a power cut mid-way
                cursor.execute("PRAGMA synchronous = OFF")
        today = local_today()
        rng = random.Random(seed)
        managers = self._users()
        industries = list(Industry.objects.order_by("code"))
        if not industries:
            raise CommandError("No industries: run `python manage.py migrate` first")
        self._b2c_profile()
        plans = [self._plan(i, rng, industries, today) for i in range(customers)]
        codes = self._codes(plans, today)
        totals = defaultdict(int)
        for start in range(0, len(plans), CHUNK):
            with transaction.atomic():
                self._write_chunk(plans[start : start + CHUNK], codes, managers, today, seed, totals)
            if customers >= 20000:
                self.stdout.write(f"  {min(start + CHUNK, customers):,} / {customers:,} customers")
        with transaction.atomic():
            totals["tasks"] = demo_service.tasks_seed(managers, today)
            demo_service.after_runs(managers)  # letters and contact plans, for customers already tiered
            demo_cases.cases_seed(managers, timezone.now())  # cases, once customers have tiers
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            f"Demo data loaded in {elapsed:.1f}s: {customers:,} customers, {totals['orders']:,} orders, "
            f"{totals['surveys']:,} surveys, {totals['interactions']:,} interactions."
        ))
        self.stdout.write("Run `python manage.py retier` to tier the customers.")
        self._print_logins()

    def _b2c_profile(self):
        """Consumers buy small and often: the demo scores them with their own rule set, as the method
        suggests for B2C groups, so they are not all dormant under the B2B-sized default."""
        if ScoringProfile.objects.filter(name=B2C_PROFILE_NAME).exists():
            return
        with transaction.atomic():
            profile = ScoringProfile.objects.create(
                name=B2C_PROFILE_NAME, customer_type="b2c",
                description="Demo: consumer-sized spend and order value, a bonus for social shares.",
            )
            profile_rules_update(profile=profile, rules=B2C_RULES, bump_version=False)

    # --- users -----------------------------------------------------------------------------

    def _users(self):
        User = get_user_model()
        users = {}
        for username, password, _role, superuser, group_name in LOGINS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.com"}
            )
            if created:
                user.set_password(password)
            user.is_superuser = superuser
            user.is_staff = superuser or group_name in STAFF_GROUPS
            user.save()
            if group_name:
                user.groups.add(Group.objects.get_or_create(name=group_name)[0])
            users[username] = user
        return [users["manager1"], users["manager2"], None]

    def _print_logins(self):
        self.stdout.write("Logins:")
        for username, password, role, _superuser, _group in LOGINS:
            self.stdout.write(f"  {username:<12} {password:<17} {role}")

    # --- planning --------------------------------------------------------------------------

    def _plan(self, index: int, rng: random.Random, industries: list[Industry], today: datetime.date) -> Plan:
        industry = rng.choice(industries)
        b2c = rng.random() < (0.45 if industry.code in {"RET", "EDU", "MED"} else 0.15)
        if b2c:
            size, factor = "individual", 0.2
        else:
            size, factor, _weight = rng.choices(SIZES_B2B, weights=[w for *_x, w in SIZES_B2B])[0]
        quality = rng.gauss(0, 1)
        roll = rng.random()
        if roll < 0.03:  # prospects: asked for quotes, no deal yet
            since, active_until = None, None
        else:
            since = today - datetime.timedelta(days=int(rng.triangular(20, 9 * 365, 3 * 365)))
            if roll < 0.16:  # gone quiet: last order 3 to 15 months ago
                active_until = today - datetime.timedelta(days=rng.randint(95, 450))
            else:
                active_until = today
            if active_until < since:
                active_until = since
        # manager1 and manager2 own different industries; about one customer in ten is unassigned.
        slot = 2 if rng.random() < 0.1 else industries.index(industry) % 2
        return Plan(index, industry, "b2c" if b2c else "b2b", size, factor, quality, since, active_until, slot,
                    rng.getrandbits(32))

    def _codes(self, plans: list[Plan], today: datetime.date) -> dict[int, str]:
        """Codes carry the year the customer came in, reserved in blocks per industry and year."""
        groups: dict[tuple[int, int], list[Plan]] = defaultdict(list)
        by_id = {}
        for plan in plans:
            year = (plan.since or today).year
            groups[(plan.industry.pk, year)].append(plan)
            by_id[plan.industry.pk] = plan.industry
        codes = {}
        for (industry_id, year), members in sorted(groups.items()):
            block = customer_codes_reserve(industry=by_id[industry_id], year=year, count=len(members))
            for plan, code in zip(members, block, strict=True):
                codes[plan.index] = code
        return codes

    # --- writing ---------------------------------------------------------------------------

    def _write_chunk(self, plans, codes, managers, today, seed, totals):
        customers = [self._customer(plan, codes[plan.index], managers) for plan in plans]
        demo_service.prospects_grade(plans, customers, today)
        Customer.objects.bulk_create(customers, batch_size=1000)
        orders, surveys, interactions = [], [], []
        for plan, customer in zip(plans, customers, strict=True):
            rng = random.Random(plan.rng_seed ^ seed)
            orders.extend(self._orders(plan, customer, rng, today))
            surveys.extend(self._surveys(plan, customer, rng, today))
            interactions.extend(self._interactions(plan, customer, rng, today, managers))
        interactions.extend(demo_service.recent_contacts(plans, customers, today, managers, seed))
        demo_service.activities_detail(interactions, seed)
        Order.objects.bulk_create(orders, batch_size=2000)
        SatisfactionSurvey.objects.bulk_create(surveys, batch_size=2000)
        Interaction.objects.bulk_create(interactions, batch_size=2000)
        totals["orders"] += len(orders)
        totals["surveys"] += len(surveys)
        totals["interactions"] += len(interactions)

    def _customer(self, plan: Plan, code: str, managers) -> Customer:
        rng = random.Random(plan.rng_seed)
        city = rng.choice(CITIES)
        if plan.customer_type == "b2c":
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
            tax_id = f"{rng.randint(110000, 659999)}{rng.randint(1960, 2004)}{rng.randint(101, 1228):04d}" \
                     f"{rng.randint(0, 999):03d}{rng.choice('0123456789X')}"
            contact = name
        else:
            suffix = "股份有限公司" if plan.company_size == "large" else "有限公司"
            name = f"{city}{rng.choice(WORDS)}{TRADES.get(plan.industry.code, '实业')}{suffix}"
            tax_id = "91" + f"{rng.randint(110000, 659999)}" + "".join(rng.choices("0123456789ABCDEFGHJKLMNPQRTUWXY", k=10))
            contact = rng.choice(SURNAMES) + rng.choice(["经理", "总", "女士", "先生"])
        strategic_bonus = 3 if plan.industry.strategic else 0
        return Customer(
            code=code,
            name=name,
            industry=plan.industry,
            customer_type=plan.customer_type,
            region=rng.choice(REGIONS),
            company_size=plan.company_size,
            account_manager=managers[plan.manager_slot],
            cooperation_since=plan.since,
            status=Customer.Status.ACTIVE,
            potential_rating=max(0, min(10, round(rng.gauss(4 + strategic_bonus + plan.quality, 2)))),
            language=Customer.Language.EN if rng.random() < 0.05 else Customer.Language.ZH_HANS,
            contact_person=contact,
            contact_phone=f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}",
            contact_email=f"contact{plan.index}@example.com",
            tax_id=tax_id,
            bank_account="62" + "".join(rng.choices("0123456789", k=rng.choice([14, 17]))),
        )

    def _orders(self, plan: Plan, customer: Customer, rng: random.Random, today: datetime.date) -> list[Order]:
        if plan.since is None:
            return []
        window_start = max(plan.since, today - datetime.timedelta(days=ORDER_HISTORY_DAYS))
        window_days = (plan.active_until - window_start).days
        if window_days <= 0:
            return []
        # Orders at a yearly rate that is log-normal, so most customers order a handful of times, a few very often.
        expected = math.exp(3.3 + 0.6 * plan.quality + rng.gauss(0, 0.5)) * window_days / HISTORY_DAYS
        count = min(400, int(expected) + (1 if rng.random() < expected % 1 else 0))
        base = (900 if plan.customer_type == "b2c" else 15000) * plan.size_factor * math.exp(0.6 * plan.quality)
        source = "shop" if plan.customer_type == "b2c" else "erp"
        orders = []
        for k in range(count):
            amount = Decimal(str(round(max(1.0, base * rng.lognormvariate(0, 0.7)), 2)))
            ordered_at = window_start + datetime.timedelta(days=rng.randint(0, window_days))
            orders.append(Order(customer=customer, amount=amount, ordered_at=ordered_at, source=source,
                                external_ref=f"DEMO-{customer.code}-{k:04d}"))
        return orders

    def _surveys(self, plan, customer, rng, today) -> list[SatisfactionSurvey]:
        if plan.since is None:
            return []
        surveys = []
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            score = max(1.0, min(5.0, rng.gauss(4.0 + 0.4 * plan.quality, 0.6)))
            surveys.append(SatisfactionSurvey(
                customer=customer, score=Decimal(str(round(score * 2) / 2)).quantize(Decimal("0.01")),
                surveyed_at=today - datetime.timedelta(days=rng.randint(1, HISTORY_DAYS)),
                channel=rng.choice(["email", "phone", "wechat", "visit"]),
            ))
        return surveys

    def _interactions(self, plan, customer, rng, today, managers) -> list[Interaction]:
        author = managers[plan.manager_slot]
        rows = []

        def add(kind, days_ago):
            rows.append(Interaction(customer=customer, kind=kind, note=NOTES[kind], recorded_by=author,
                                    occurred_at=today - datetime.timedelta(days=days_ago)))

        if plan.since is None:
            add("inquiry", rng.randint(1, 60))
            return rows
        for _ in range(rng.randint(0, 4)):
            add(rng.choice(["visit", "call", "email"]), rng.randint(1, HISTORY_DAYS))
        roll = rng.random()
        if roll < 0.02:  # an unhappy customer: three or more complaints in the last quarter
            for _ in range(rng.randint(3, 5)):
                add("complaint", rng.randint(1, 80))
        elif roll < 0.10:
            add("complaint", rng.randint(1, HISTORY_DAYS))
        if rng.random() < 0.06:  # advocates: referrals (B2B) or social shares (B2C)
            kind = "social_share" if plan.customer_type == "b2c" else "referral"
            for _ in range(min(12, int(rng.expovariate(0.4)) + 1)):
                add(kind, rng.randint(1, 365))
        return rows
