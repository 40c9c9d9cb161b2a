"""The web app (``minml app``; the ``app`` extra: Streamlit).

For people who do not program: upload a table, see what was read, classify or validate, look at
the pictures, download the results.  ``page.py`` is the Streamlit page; ``_work.py`` what it
does, through the library's public functions only.  The server runs in this process, on
127.0.0.1 and a free port unless told otherwise.
"""

from __future__ import annotations

import socket
from pathlib import Path

__all__ = ["DEFAULT_UPLOAD_MB", "free_port", "launch", "streamlit_options"]

DEFAULT_UPLOAD_MB = 200
"""Largest upload accepted, in MB (Streamlit refuses a larger file, naming the limit)."""

PAGE = Path(__file__).with_name("page.py")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at ``host`` now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def streamlit_options(host: str, port: int, max_upload_mb: int) -> list[str]:
    """The ``streamlit run`` options of the app: no telemetry, no browser opened, no file
    watcher, no stack traces on the page (errors are shown as messages)."""
    if max_upload_mb < 1:
        raise ValueError(f"the upload limit is a number of MB, at least 1, got {max_upload_mb}")
    return [
        f"--server.address={host}",
        f"--server.port={port}",
        f"--server.maxUploadSize={max_upload_mb}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--browser.gatherUsageStats=false",
        "--client.showErrorDetails=none",
        "--client.toolbarMode=minimal",
        "--global.developmentMode=false",
        "--theme.base=light",
    ]


def launch(host: str = "127.0.0.1", port: int | None = None, max_upload_mb: int = DEFAULT_UPLOAD_MB) -> int:
    """Serve the app until interrupted (blocks); returns the exit status.

    Parameters
    ----------
    host : str, default="127.0.0.1"
        Address to listen on (``0.0.0.0``: every network interface; only on a trusted network).
    port : int, optional
        Default: a free port.
    max_upload_mb : int, default=200
    """
    try:
        from streamlit.web import cli as streamlit_cli
    except ImportError:
        raise ImportError('The app needs Streamlit: pip install "min-ml[app]".') from None
    port = free_port(host) if port is None else port
    argv = ["run", str(PAGE), *streamlit_options(host, port, max_upload_mb)]
    try:
        streamlit_cli.main(argv, prog_name="minml app", standalone_mode=False)
    except SystemExit as stop:  # click's way of ending
        return int(stop.code or 0)
    return 0
