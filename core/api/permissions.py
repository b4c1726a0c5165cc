"""Who may call what. Visibility of individual customers is handled by crm.selectors, not here.

Admin writes (industries, tiers, scoring rules, manual tier overrides) need a staff user who
also holds the model permission: superusers, or staff in the "Tier administrators" group.
Integration and account-manager tokens never change rules, whatever else they may do.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission


def has_perms(user, perms) -> bool:
    return bool(user and user.is_authenticated and user.has_perms(perms))


def is_admin_with(user, perms) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or (user.is_staff and user.has_perms(perms))))


class ReadOrAdminWrite(BasePermission):
    """Any authenticated user reads; writes need `admin_write_perms` (set on the view) and staff status."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        return is_admin_with(request.user, getattr(view, "admin_write_perms", ()))


class MethodPermissions(BasePermission):
    """Model permissions per HTTP method, from the view's `required_perms = {"POST": [...], ...}`."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        required = getattr(view, "required_perms", {}).get(request.method, ())
        return has_perms(request.user, required)


class ActionPermissions(BasePermission):
    """Per viewset action: `action_perms = {"create": ("crm.add_customer",)}` and `admin_actions = {...}`.

    Checked before the object is looked up, so a missing right answers 403 whichever customer is
    named, and an invisible customer answers 404 to those who have the right."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        action = getattr(view, "action", None) or request.method.lower()
        perms = getattr(view, "action_perms", {}).get(action, ())
        if action in getattr(view, "admin_actions", ()):
            return is_admin_with(user, perms)
        return has_perms(user, perms)
