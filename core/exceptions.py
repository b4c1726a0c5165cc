"""The one domain exception. The API's exception handler turns it into a clear 4xx."""


class DomainError(Exception):
    """A request the domain refuses, with a machine-readable code and messages per field."""

    status_code = 400

    def __init__(self, message: str, *, code: str = "invalid", fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.fields = fields or {}


class ConflictError(DomainError):
    """The request clashes with the current state (e.g. a tier run already in progress)."""

    status_code = 409

    def __init__(self, message: str, *, code: str = "conflict", fields: dict | None = None):
        super().__init__(message, code=code, fields=fields)


class NotFoundError(DomainError):
    """What was named does not exist for this caller (an unknown and an invisible row read the same)."""

    status_code = 404

    def __init__(self, message: str, *, code: str = "not_found", fields: dict | None = None):
        super().__init__(message, code=code, fields=fields)
