"""Error pages: what happened and where to go, in the site's layout; JSON under /api/.

Django calls these for a 403, 404 and 500 when DEBUG is off (lfr_site/urls.py names
them). A 404 says plainly that the page may exist but not for this user: outsiders are
shown 404 on purpose, so as not to confirm what they may not see.
"""

from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from core import request_context

PAGES = {
    403: (
        "Not allowed",
        "Your role may see this, but not do this.",
        "If you need to, ask a colleague who holds the right role, or an administrator.",
    ),
    404: (
        "Not found",
        "There is no such page, or your role does not reach it.",
        "Check the address, or start again from your home page.",
    ),
    500: (
        "Something went wrong on our side",
        "The server could not finish this request. Go back and try again; after a form, "
        "check whether it was saved before you send it again.",
        "If it happens again, give the reference below to your administrator.",
    ),
}


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _page(request, status: int, message: str = "", *, with_context: bool = True):
    title, default, hint = PAGES[status]
    request_id = request_context.current()[0]
    if _is_api(request):
        return JsonResponse({"detail": message or default, "request_id": request_id}, status=status)
    context = {
        "status": status,
        "title": title,
        "message": message or default,
        "hint": hint,
        "request_id": request_id,
    }
    # A 500 may come from a broken database: render without the context processors
    # (navigation asks the database) and without the request's user.
    template = loader.get_template("error.html")
    body = template.render(context, request if with_context else None)
    return HttpResponse(body, status=status)


@requires_csrf_token
def forbidden(request, exception=None):
    message = str(exception) if exception and str(exception) else ""
    return _page(request, 403, message)


@requires_csrf_token
def not_found(request, exception=None):
    return _page(request, 404)


@requires_csrf_token
def server_error(request):
    return _page(request, 500, with_context=False)


def csrf_failure(request, reason=""):
    return _page(
        request,
        403,
        "This form had expired or came from another site, so it was not sent. "
        "Reload the page and try again.",
    )
