"""The jinja2 environment of the clinic pages (``report/templates/clinic/*.html.j2``, autoescaped).

Layout lives in the templates, words in ``clinic/i18n/<lang>.toml``; Python only prepares numbers
(rounded with :mod:`dermsim.report.format`) and drawings (inline SVG, passed as ``Markup``).
"""

from __future__ import annotations

from functools import cache

import jinja2


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("dermsim.report", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)


def render(name: str, **context: object) -> str:
    return environment().get_template(f"clinic/{name}").render(**context)
