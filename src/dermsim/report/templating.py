"""HTML pages through jinja2 templates (``report/templates/*.html``) with autoescaping.

Every text that reaches a page is escaped by the template engine; only fragments built by a
library that escapes itself (great_tables tables) or figure data URIs are marked safe, by the
caller, with :func:`safe`.
"""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

__all__ = ["render_template", "safe"]


@functools.cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("dermsim.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def safe(html_fragment: str) -> Markup:
    """Mark an HTML fragment from a self-escaping renderer (great_tables) as safe to embed."""
    return Markup(html_fragment)


def render_template(name: str, **context: Any) -> str:
    """The text of template ``name`` rendered with ``context``."""
    return _env().get_template(name).render(**context)
