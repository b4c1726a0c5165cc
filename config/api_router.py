"""The API router: every app's /api/v1/... endpoints, the OpenAPI schema at /api/schema/ and Swagger UI at /api/docs/."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from commitments.api.views import CaseViewSet, PlaybookViewSet, ResultsView
from core.api.errors import not_found
from crm.api.views.customers import CustomerViewSet
from crm.api.views.industries import IndustryViewSet
from crm.api.views.ingest import InteractionIngestView, OrderIngestView, SurveyIngestView
from scoring.api.views import BacktestViewSet, CustomerScoreViewSet, ScoringProfileViewSet, TierViewSet
from service.api.views import ActivityViewSet, ContactDueViewSet, TaskViewSet
from tiering.api.views import CustomerTierViewSet, TierChangeFeedView, TierRunViewSet

app_name = "api"

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("industries", IndustryViewSet, basename="industry")
router.register("tiers", TierViewSet, basename="tier")
router.register("score-profiles", ScoringProfileViewSet, basename="score-profile")
router.register("tier-runs", TierRunViewSet, basename="tier-run")
router.register("backtests", BacktestViewSet, basename="backtest")
router.register("activities", ActivityViewSet, basename="activity")
router.register("tasks", TaskViewSet, basename="task")
router.register("contact-due", ContactDueViewSet, basename="contact-due")
router.register("cases", CaseViewSet, basename="case")
router.register("playbooks", PlaybookViewSet, basename="playbook")

# Endpoints under /customers/{code}/ that other apps own (live score; tier history and manual
# tier): a router each, since one router takes a basename once, so their URL names stay `customer-...`.
customer_resources = []
for viewset in (CustomerScoreViewSet, CustomerTierViewSet):
    resource_router = SimpleRouter()
    resource_router.register("customers", viewset, basename="customer")
    customer_resources.extend(resource_router.urls)

v1 = [
    path("orders/", OrderIngestView.as_view(), name="orders"),
    path("surveys/", SurveyIngestView.as_view(), name="surveys"),
    path("interactions/", InteractionIngestView.as_view(), name="interactions"),
    path("tier-changes/", TierChangeFeedView.as_view(), name="tier-changes"),
    path("results/", ResultsView.as_view(), name="results"),
    *router.urls,
    *customer_resources,
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under /api/ (unknown resources, malformed codes or ids) gets the JSON 404, not an HTML page.
    re_path(r"^v1/", not_found, name="not-found"),
]
