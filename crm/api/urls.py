"""/api/v1/... endpoints, the OpenAPI schema at /api/schema/ and Swagger UI at /api/docs/."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from crm.api.views.customers import CustomerViewSet
from crm.api.views.errors import not_found
from crm.api.views.ingest import InteractionIngestView, OrderIngestView, SurveyIngestView
from crm.api.views.reference import IndustryViewSet, ScoringProfileViewSet, TierViewSet
from crm.api.views.tiering import TierChangeFeedView, TierRunViewSet

app_name = "api"

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("industries", IndustryViewSet, basename="industry")
router.register("tiers", TierViewSet, basename="tier")
router.register("score-profiles", ScoringProfileViewSet, basename="score-profile")
router.register("tier-runs", TierRunViewSet, basename="tier-run")

v1 = [
    path("orders/", OrderIngestView.as_view(), name="orders"),
    path("surveys/", SurveyIngestView.as_view(), name="surveys"),
    path("interactions/", InteractionIngestView.as_view(), name="interactions"),
    path("tier-changes/", TierChangeFeedView.as_view(), name="tier-changes"),
    *router.urls,
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under /api/ (unknown resources, malformed codes or ids) gets the JSON 404, not an HTML page.
    re_path(r"^v1/", not_found, name="not-found"),
]
