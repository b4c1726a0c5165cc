"""An "Import" page and changelist button for admin pages of customers and orders.

The page calls the same import functions as `manage.py import_customers / import_orders`, so
the rules, the row/column/reason report and the all-or-nothing default are identical. It lists
the file's columns from crm.columns (the table the exports use too) and offers an empty file
with the header row, in the user's language, to start from.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import get_language, gettext_lazy, override
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from crm.columns import FileColumn, Kind
from crm.imports import RowError, template_csv
from crm.services import REASON_MAX_LENGTH

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV (UTF-8 or GBK) or XLSX; the first row names the columns."),
    )
    skip_invalid = forms.BooleanField(
        label=gettext_lazy("Import the good rows and skip the bad ones"),
        required=False,
        help_text=gettext_lazy("Without this, a file with any bad row is rejected whole."),
    )

    def __init__(self, *args, takes_reason: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if takes_reason:
            self.fields["reason"] = forms.CharField(
                label=gettext_lazy("Reason for the changes"),
                required=False,
                max_length=REASON_MAX_LENGTH,
                help_text=gettext_lazy(
                    "Kept in the history of every customer the file changes. Needed when a file of an account "
                    "manager changes a potential rating."
                ),
            )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB; split it.") % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


def _requirement(column: FileColumn, *, updates: bool) -> str:
    if column.kind == Kind.KEY:
        return "key"
    if not column.required:
        return "no"
    return "new" if updates else "yes"


def column_rows(columns: tuple[FileColumn, ...]) -> list[dict]:
    """The import page's column help: header in the user's language, the other headers accepted,
    whether a row needs it, and what it means."""
    updates = any(column.kind == Kind.KEY for column in columns)  # then only new records need the required ones
    rows = []
    for column in columns:
        label = str(column.label)
        others = []
        for code, _language in settings.LANGUAGES:
            with override(code):
                others.append(str(column.label))
        others.append(column.name)
        rows.append(
            {
                "label": label,
                "also": [name for name in dict.fromkeys(others) if name != label],
                "required": _requirement(column, updates=updates),
                "meaning": column.meaning,
                "choices": [str(label) for _value, label in column.choices],
            }
        )
    return rows


class ImportAdminMixin:
    """Set `import_function` (crm.imports.customers_import or orders_import) and `import_columns`
    (crm.columns) on a ModelAdmin."""

    import_function = None
    import_columns: tuple[FileColumn, ...] = ()
    import_takes_reason = False  # the function keeps a reason in each changed record's history
    import_help = ""  # shown on the import page: what the file's rows do
    change_list_template = "admin/crm/change_list_import.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        extra = [
            path("import/", self.admin_site.admin_view(self.import_view), name=f"{info[0]}_{info[1]}_import"),
            path(
                "import/template.csv",
                self.admin_site.admin_view(self.import_template_view),
                name=f"{info[0]}_{info[1]}_import_template",
            ),
        ]
        return extra + super().get_urls()

    def import_template_view(self, request):
        """An empty file whose header row names every column a file may have, in the user's language."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        columns = [column for column in self.import_columns if column.kind != Kind.COMPUTED]
        response = HttpResponse(template_csv(columns), content_type="text/csv; charset=utf-8")
        filename = f"{self.opts.model_name}-import-template-{get_language() or settings.LANGUAGE_CODE}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def has_import_permission(self, request) -> bool:
        return self.has_add_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_import_permission": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context=extra_context)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None, takes_reason=self.import_takes_reason)
        errors: list[RowError] = []
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            extra = {"reason": form.cleaned_data["reason"]} if self.import_takes_reason else {}
            try:
                report = type(self).import_function(
                    data=upload.read(),
                    filename=upload.name,
                    user=request.user,
                    skip_invalid=form.cleaned_data["skip_invalid"],
                    **extra,
                )
            except DomainError as exc:
                messages.error(request, exc.message)
                errors = [RowError(**item) for item in exc.fields.get("rows", [])]
                problems = [str(p) for key in ("file", "columns", "reason") for p in exc.fields.get(key, [])]
            else:
                summary = report.summary()
                if report.ignored_columns:
                    messages.info(request, report.ignored_summary())
                if not report.errors:
                    messages.success(request, summary)
                    info = self.opts.app_label, self.opts.model_name
                    return redirect(reverse(f"admin:{info[0]}_{info[1]}_changelist"))
                messages.warning(request, summary)
                errors = report.errors
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import %(name)s") % {"name": self.opts.verbose_name_plural},
            "form": form,
            "import_help": self.import_help,
            "import_columns": column_rows(tuple(c for c in self.import_columns if c.kind != Kind.COMPUTED)),
            "ignored_columns": [str(c.label) for c in self.import_columns if c.kind == Kind.COMPUTED],
            "template_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_import_template"),
            "row_errors": errors,
            "file_problems": problems,
        }
        return TemplateResponse(request, "admin/crm/import.html", context)
