"""Values the shared layout shows on every page."""

from django.utils.functional import SimpleLazyObject

from service.selectors import open_task_count


def open_tasks(request) -> dict:
    """The signed-in user's open task count for the navigation: one query, made only when a
    template shows it (admin pages and the login page never do)."""
    user = getattr(request, "user", None)
    return {"open_task_count": SimpleLazyObject(lambda: open_task_count(user))}
