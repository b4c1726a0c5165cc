"""The JSON 404 for API paths no endpoint matches."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from core.api.exception_handler import error_body


@csrf_exempt  # it changes nothing, so a POST to a wrong URL gets the 404, not a CSRF page
def not_found(request, *args, **kwargs):
    return JsonResponse(error_body("not_found", _("No such resource.")), status=404)
