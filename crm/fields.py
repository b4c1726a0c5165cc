from django.db import models

from crm import crypto


class EncryptedTextField(models.TextField):
    """A text column that only ever holds ciphertext; Python code sees the clear value."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return crypto.encrypt(value)
