"""The ``app`` command."""

from __future__ import annotations


def _add_app(sub) -> None:
    p = sub.add_parser(
        "app",
        help="open the web app (upload, classify, validate, look, download)",
        description='Serve the MIN-ML web app (needs the app extra: pip install "min-ml[app]") and print its '
        "address; open it in a browser. Stop it with Ctrl-C.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this computer only)")
    p.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    p.add_argument("--max-upload-mb", type=int, default=200, help="largest upload accepted, in MB (default: 200)")
    p.set_defaults(run=_run_app)


def _run_app(args) -> int:
    from minml.app import free_port, launch, streamlit_options

    port = args.port or free_port(args.host)
    streamlit_options(args.host, port, args.max_upload_mb)  # refuses a bad limit before anything starts
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"MIN-ML app: open http://{shown}:{port} in a browser (Ctrl-C stops it)", flush=True)
    return launch(args.host, port, args.max_upload_mb)
