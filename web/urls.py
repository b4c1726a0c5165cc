from django.urls import path

from web import views

app_name = "web"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("customers/export.csv", views.CustomerExportView.as_view(), {"fmt": "csv"}, name="customer-export-csv"),
    path("customers/export.xlsx", views.CustomerExportView.as_view(), {"fmt": "xlsx"}, name="customer-export-xlsx"),
    path("customers/<str:code>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("customers/<str:code>/edit/", views.CustomerUpdateView.as_view(), name="customer-update"),
    path("customers/<str:code>/letter/", views.CustomerLetterView.as_view(), name="customer-letter"),
    path("notices/", views.NoticeListView.as_view(), name="notice-list"),
    path("notices/acknowledge/", views.NoticeAcknowledgeView.as_view(), name="notice-acknowledge"),
    path("runs/", views.RunListView.as_view(), name="run-list"),
    path("runs/start/", views.RunStartView.as_view(), name="run-start"),
    path("runs/<int:pk>/progress/", views.RunProgressView.as_view(), name="run-progress"),
]
