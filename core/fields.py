import json

from django.db import models

from core import crypto


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


class FloatArrayField(models.Field):
    """A list of floats, None for a missing value: `double precision[]` on PostgreSQL (NaN stands
    for None, so every element is fixed width and a run can write arrays without building JSON),
    a JSON list elsewhere."""

    description = "List of floats"

    def db_type(self, connection):
        return "double precision[]" if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        if isinstance(value, str):
            value = json.loads(value)
        return [None if v is None or v != v else float(v) for v in value]

    def to_python(self, value):
        if value is None or isinstance(value, list):
            return value
        return self.from_db_value(value, None, None)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        values = [None if v is None or v != v else float(v) for v in value]
        if connection.vendor == "postgresql":
            return [float("nan") if v is None else v for v in values]
        return json.dumps(values)
