"""manage.py import_customers FILE [--skip-invalid] [--encoding gbk] [--user NAME] [--reason TEXT]"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from crm.imports import RowError, customers_import


class Command(BaseCommand):
    help = (
        "Create customers from a CSV (UTF-8 or GBK) or XLSX file; a row with a code column updates that customer. "
        "A file with any bad row is rejected whole."
    )
    import_function = staticmethod(customers_import)
    noun = "customers"
    takes_reason = True  # kept in each changed customer's history

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV or XLSX file; the first row names the columns.")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the good rows and report the bad ones, instead of rejecting the whole file.",
        )
        parser.add_argument("--encoding", help="CSV text encoding (default: try UTF-8, then GBK/GB18030).")
        parser.add_argument("--user", help="Import as this user: only customers they may see are touched.")
        if self.takes_reason:
            parser.add_argument(
                "--reason",
                default="",
                help="Why the records change; kept in each changed customer's history. Needed when an account "
                "manager's file changes a potential rating.",
            )

    def handle(self, *args, file, skip_invalid, encoding, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"file: {file} does not exist")
        importer = None
        if user:
            importer = get_user_model().objects.filter(username=user, is_active=True).first()
            if importer is None:
                raise CommandError(f"user: no active user {user!r}")
        extra = {"reason": options["reason"]} if self.takes_reason else {}
        try:
            report = self.import_function(
                data=path.read_bytes(),
                filename=path.name,
                user=importer,
                skip_invalid=skip_invalid,
                encoding=encoding,
                **extra,
            )
        except DomainError as exc:
            for name, problems in exc.fields.items():
                for problem in problems:
                    if isinstance(problem, dict):
                        self.stderr.write(str(RowError(**problem)))
                    else:
                        self.stderr.write(f"{name}: {problem}")
            raise CommandError(exc.message) from None
        for error in report.errors:
            self.stderr.write(str(error))
        summary = f"{self.noun}: {report.created} created"
        if report.updated:
            summary += f", {report.updated} updated"
        if report.unchanged:
            summary += f", {report.unchanged} unchanged"
        if report.duplicates:
            summary += f", {report.duplicates} already stored"
        if report.skipped:
            summary += f", {report.skipped} bad row(s) skipped"
        self.stdout.write(self.style.SUCCESS(summary) if not report.skipped else self.style.WARNING(summary))
        if report.ignored_columns:
            self.stdout.write(f"computed columns ignored: {', '.join(report.ignored_columns)}")
