"""Re-encrypt every sensitive customer field with the first key of FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then drop the old keys. Safe to re-run: it only rewrites ciphertext.
"""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from core import crypto
from crm.models import Customer

ENCRYPTED_COLUMNS = ("tax_id", "bank_account")
BATCH = 2000


class Command(BaseCommand):
    help = "Re-encrypt tax IDs and bank accounts with the current (first) encryption key."

    def handle(self, *args, **options):
        table = connection.ops.quote_name(Customer._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in ENCRYPTED_COLUMNS)
        rotated = 0
        last_id = 0
        while True:
            with transaction.atomic():
                # Raw SQL: the model field would decrypt on read, we want the stored tokens.
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT id, {columns} FROM {table} WHERE id > %s ORDER BY id LIMIT %s",  # noqa: S608
                        [last_id, BATCH],
                    )
                    rows = cursor.fetchall()
                    if not rows:
                        break
                    for row_id, *tokens in rows:
                        new_tokens = [crypto.rotate(t) if t else t for t in tokens]
                        assignments = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in ENCRYPTED_COLUMNS)
                        cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*new_tokens, row_id])  # noqa: S608
                        rotated += 1
                    last_id = rows[-1][0]
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the sensitive fields of {rotated} customers."))
