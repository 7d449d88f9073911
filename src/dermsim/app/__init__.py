"""The dermsim web app (Shiny for Python): trial, analysis, design, model explorer and clinic pages
on :mod:`dermsim.workflows` (the only part of dermsim the app imports, with ``dermsim.errors``).

``create_app()`` returns the Shiny ``App``, an ASGI application: ``dermsim app`` serves it with
uvicorn on 127.0.0.1:8000; it can also be mounted in an existing ASGI server, e.g. Starlette's
``Mount("/dermsim", app=create_app())``. Safety (issue 13 point 3): see :mod:`dermsim.app._safety`
(upload limit, per-session private folders) and :mod:`dermsim.app._jobs` (worker threads,
cancellation, at most two runs at once).
"""

from __future__ import annotations

from dermsim.app.server import create_app

__all__ = ["create_app"]
