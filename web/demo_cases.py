"""The cases part of the demo data (seed_demo, once tier runs have placed customers in tiers): per
manager a few open cases near their first-response deadline, one breached, and closed ones with
satisfaction grades. Written through commitments.services.cases like any other case, at times
pinned to the `now` the command passes, so the clocks and the results read as they would live."""

from __future__ import annotations

import datetime

from commitments.models import Case
from commitments.services import cases as case_services
from commitments.services.sla import sla_sweep
from crm.models import Customer, Interaction

# (tier rank, subject, kind, severity, minutes before now it was opened, outcome: open, or the grade
# it was closed with). The breached one has waited two weeks: past any tier's promise (a day of
# business hours at most), whatever its clock, holidays included. It
# comes last and is a request, not a complaint: an activity recorded after it (a complaint case
# records one) would count as its first response, as would the demo's activities, all written at
# seeding time, if recording one looked for them.
CASES = [
    (1, "生产线停机，需紧急技术支持", Case.Kind.INCIDENT, Case.Severity.CRITICAL, 11, "open"),
    (2, "发票抬头需要更正", Case.Kind.REQUEST, Case.Severity.NORMAL, 70, "open"),
    (1, "询问批量采购折扣", Case.Kind.REQUEST, Case.Severity.LOW, 5, "A"),
    (2, "设备安装调试预约", Case.Kind.REQUEST, Case.Severity.NORMAL, 8, "B"),
    (3, "包装破损投诉", Case.Kind.COMPLAINT, Case.Severity.NORMAL, 6, "D"),
    (1, "紧急补货：客户仓库缺货", Case.Kind.REQUEST, Case.Severity.HIGH, 14 * 24 * 60, "open"),
]
REPLY = "已收到，正在安排专人处理，稍后回电。"
RESOLUTION = "已与客户确认问题解决。"


def cases_seed(managers, now: datetime.datetime) -> int:
    """Open the demo cases for each manager who has tiered customers and no case yet (so running
    it again adds nothing). Returns how many cases were opened."""
    opened = 0
    for manager in [m for m in managers if m is not None]:
        if Case.objects.filter(owner=manager).exists():
            continue
        by_rank = {
            rank: list(Customer.objects.filter(account_manager=manager, tier__rank=rank).order_by("code")[:3])
            for rank in sorted({spec[0] for spec in CASES})
        }
        if not any(by_rank.values()):
            continue
        used: list[Customer] = []
        for rank, subject, kind, severity, minutes_ago, outcome in CASES:
            customer = _next_customer(by_rank, rank, used)
            if customer is None:
                break
            complaint = None
            if kind == Case.Kind.COMPLAINT:  # a complaint already on the timeline becomes its case
                complaint = (
                    Interaction.objects.filter(customer=customer, kind=Interaction.Kind.COMPLAINT, case__isnull=True)
                    .order_by("-occurred_at")
                    .first()
                )
            case = case_services.case_open(
                customer=customer,
                kind=kind,
                severity=severity,
                subject=subject,
                user=manager,
                activity=complaint,
                opened_at=now - datetime.timedelta(minutes=minutes_ago),
            )
            opened += 1
            if outcome in Case.Satisfaction.values:
                case_services.case_respond(case=case, user=manager, body=REPLY)
                case_services.case_transition(
                    case=case, status=Case.Status.RESOLVED, user=manager, resolution=RESOLUTION
                )
                case_services.case_transition(case=case, status=Case.Status.CLOSED, user=manager, satisfaction=outcome)
    if opened:
        sla_sweep(now=now)  # the breached case's breach (and the reminders) recorded as the sweep would
    return opened


def _next_customer(by_rank: dict[int, list[Customer]], rank: int, used: list[Customer]) -> Customer | None:
    """A customer of that tier rank not used yet, else of any rank, else one used before (a small
    book of customers gets several cases each)."""
    for candidates in [by_rank.get(rank, []), *by_rank.values()]:
        for customer in candidates:
            if customer not in used:
                used.append(customer)
                return customer
    if not used:
        return None
    used.append(used[len(used) % len(set(used))])
    return used[-1]
