from django.urls import path

from web import cases, service_views, views

app_name = "web"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("customers/export.csv", views.CustomerExportView.as_view(), {"fmt": "csv"}, name="customer-export-csv"),
    path("customers/export.xlsx", views.CustomerExportView.as_view(), {"fmt": "xlsx"}, name="customer-export-xlsx"),
    path("customers/<str:code>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("customers/<str:code>/edit/", views.CustomerUpdateView.as_view(), name="customer-update"),
    path("customers/<str:code>/letter/", views.CustomerLetterView.as_view(), name="customer-letter"),
    path(
        "customers/<str:code>/letter/<str:method>/",
        service_views.LetterSendView.as_view(),
        name="customer-letter-send",
    ),
    path("customers/<str:code>/activities/", service_views.ActivityCreateView.as_view(), name="activity-create"),
    path("customers/<str:code>/tasks/", service_views.TaskCreateView.as_view(), name="task-create"),
    path("tasks/", service_views.TaskListView.as_view(), name="task-list"),
    path("tasks/<int:pk>/complete/", service_views.TaskCompleteView.as_view(), name="task-complete"),
    path("tasks/<int:pk>/cancel/", service_views.TaskCancelView.as_view(), name="task-cancel"),
    path("contacts/due/", service_views.ContactDueView.as_view(), name="contact-due"),
    path("prospects/", service_views.ProspectListView.as_view(), name="prospect-list"),
    path("notices/", views.NoticeListView.as_view(), name="notice-list"),
    path("notices/acknowledge/", views.NoticeAcknowledgeView.as_view(), name="notice-acknowledge"),
    path(
        "notices/acknowledge-matching/",
        service_views.NoticeAcknowledgeMatchingView.as_view(),
        name="notice-acknowledge-matching",
    ),
    path("notices/<int:pk>/steps/<str:step>/", service_views.NoticeStepView.as_view(), name="notice-step"),
    path("customers/<str:code>/cases/new/", cases.CaseOpenView.as_view(), name="case-open"),
    path("cases/", cases.CaseListView.as_view(), name="case-list"),
    path("cases/<int:pk>/", cases.CaseDetailView.as_view(), name="case-detail"),
    path("cases/<int:pk>/respond/", cases.CaseRespondView.as_view(), name="case-respond"),
    path("cases/<int:pk>/status/", cases.CaseStatusView.as_view(), name="case-status"),
    path("results/", cases.ResultsView.as_view(), name="results"),
    path("results/export.csv", cases.ResultsExportView.as_view(), name="results-export"),
    path("runs/", views.RunListView.as_view(), name="run-list"),
    path("runs/start/", views.RunStartView.as_view(), name="run-start"),
    path("runs/<int:pk>/progress/", views.RunProgressView.as_view(), name="run-progress"),
]
