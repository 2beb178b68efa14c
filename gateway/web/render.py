"""Rendering the pages: Jinja2 templates shipped in the package, autoescape on every page.

Every template gets ``csrf_field()`` (the hidden input each POST form carries), ``static(path)``
(the URL of an asset shipped under ``/static``) and ``signed_in``, plus what the handler passes.
Pages are never cached: they show a person's journal or an audit search.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from gateway.web.csrf import FIELD, csrf_token, set_cookie

STATIC_PATH = "/static"

environment = Environment(
    loader=PackageLoader("gateway", "web/templates"),
    autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def static(path: str) -> str:
    return f"{STATIC_PATH}/{path.lstrip('/')}"


environment.globals["static"] = static


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    def csrf_field() -> Markup:
        token = csrf_token(request)
        return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, token)

    values: dict[str, Any] = {"signed_in": False, "csrf_field": csrf_field, **(context or {})}
    html = environment.get_template(template).render(values)
    response = HTMLResponse(
        html, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})}
    )
    set_cookie(request, response)
    return response
