"""The blocks other pages show of cases: the dashboard's case cards and the customer page's cases.
Their data comes from web.cases (a fixed number of queries each), so those pages' views stay as
they are."""

from django import template

from web.cases import countdown_labels, customer_cases, dashboard_case_cards

register = template.Library()


@register.inclusion_tag("web/cases/dashboard_cards.html", takes_context=True)
def case_dashboard_cards(context):
    request = context["request"]
    if not request.user.has_perm("commitments.view_case"):
        return {"may_view_cases": False}
    return {"may_view_cases": True, "request": request, **dashboard_case_cards(request.user)}


@register.inclusion_tag("web/cases/customer_cases.html", takes_context=True)
def customer_case_list(context, customer):
    request = context["request"]
    if not request.user.has_perm("commitments.view_case"):
        return {"may_view_cases": False}
    return {
        "may_view_cases": True,
        "may_open_cases": request.user.has_perm("commitments.add_case"),
        "request": request,
        "countdown": countdown_labels(),
        **customer_cases(customer),
    }
