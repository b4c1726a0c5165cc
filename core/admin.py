"""Admin building blocks shared by the apps (not an app of its own: nothing here is registered)."""


class ReadOnlyAdminMixin:
    """For append-only records and recent-row inlines: admins look, they never add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
