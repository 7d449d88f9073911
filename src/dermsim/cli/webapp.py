"""``dermsim app``: serve the web app (Shiny for Python) with uvicorn. (Named webapp.py: ``cli.app`` is
the Typer application object.)

    dermsim app                      # http://127.0.0.1:8000 (this computer only)
    dermsim app --port 8050
"""

from __future__ import annotations

import typer

from dermsim.cli import app

_LOCAL = ("127.0.0.1", "localhost", "::1")


@app.command("app")
def app_cmd(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="address to listen on (default: this computer only)"
    ),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port"),
) -> None:
    """Start the web app: trial, analysis, design, model explorer and clinic pages."""
    import uvicorn

    if host not in _LOCAL:
        typer.echo(
            f"warning: listening on {host}: anyone who can reach this address can use the app and "
            "its uploads; there is no login.",
            err=True,
        )
    typer.echo(f"dermsim app on http://{'[' + host + ']' if ':' in host else host}:{port} (Ctrl+C stops it)")
    # by import string: the layer contract keeps cli and app apart (siblings), uvicorn joins them
    uvicorn.run("dermsim.app:create_app", factory=True, host=host, port=port, log_level="warning")
