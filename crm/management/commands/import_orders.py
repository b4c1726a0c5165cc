"""manage.py import_orders FILE [--skip-invalid] [--encoding gbk] [--user NAME]"""

from crm.imports import orders_import
from crm.management.commands.import_customers import Command as ImportCustomersCommand


class Command(ImportCustomersCommand):
    help = (
        "Store orders from a CSV (UTF-8 or GBK) or XLSX file; orders already stored under the same source and "
        "external reference count as duplicates. A file with any bad row is rejected whole."
    )
    import_function = staticmethod(orders_import)
    noun = "orders"
    takes_reason = False
