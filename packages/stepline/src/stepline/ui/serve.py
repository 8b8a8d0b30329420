"""Start the web app with uvicorn (the ``stepline ui`` command's body)."""

from __future__ import annotations

import ipaddress
import socket
import sys

from stepline.errors import StepLineError


class UiNotInstalledError(StepLineError):
    """``stepline ui`` without its extra."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(config: str | None, host: str, port: int) -> None:
    """Serve until interrupted; prints the address (the real port when ``port`` is 0)."""
    try:
        import uvicorn

        from stepline.ui.app import create_app
    except ImportError as exc:
        raise UiNotInstalledError(f"stepline ui needs the 'ui' extra ({exc.name} is not installed)",
                                  hint='pip install "stepline[ui]"') from None
    app = create_app(config)
    try:
        listener = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        raise StepLineError(f"cannot listen on {host}:{port}: {exc.strerror}",
                            hint="pick another --port, or stop what uses it") from None
    bound = listener.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    print(f"stepline ui: http://{shown}:{bound}/ (read-only; Ctrl+C stops it)", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[listener])
