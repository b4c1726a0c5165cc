"""An "Import" page and changelist button for admin pages of customers and orders.

The page calls the same import functions as `manage.py import_customers / import_orders`, so
the rules, the row/column/reason report and the all-or-nothing default are identical.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import DomainError
from crm.imports import RowError

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

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB; split it.") % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


class ImportAdminMixin:
    """Set `import_function` (crm.imports.customers_import or orders_import) on a ModelAdmin."""

    import_function = None
    import_help = ""  # shown on the import page: what the file's rows do
    change_list_template = "admin/crm/change_list_import.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        extra = [path("import/", self.admin_site.admin_view(self.import_view), name=f"{info[0]}_{info[1]}_import")]
        return extra + super().get_urls()

    def has_import_permission(self, request) -> bool:
        return self.has_add_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_import_permission": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context=extra_context)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        errors: list[RowError] = []
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = type(self).import_function(
                    data=upload.read(),
                    filename=upload.name,
                    user=request.user,
                    skip_invalid=form.cleaned_data["skip_invalid"],
                )
            except DomainError as exc:
                messages.error(request, exc.message)
                errors = [RowError(**item) for item in exc.fields.get("rows", [])]
                problems = [str(p) for key in ("file", "columns") for p in exc.fields.get(key, [])]
            else:
                summary = report.summary()
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
            "row_errors": errors,
            "file_problems": problems,
        }
        return TemplateResponse(request, "admin/crm/import.html", context)
