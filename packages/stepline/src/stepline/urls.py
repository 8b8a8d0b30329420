"""URLs as they may be shown (run log, ``describe()``, messages): no password, no secret-looking query value."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

MASK = "***"
#: Query keys whose values are never shown (``?sslpassword=...``, ``?sas_token=...``).
SECRET_QUERY_KEY = re.compile(r"passw|secret|token|key|credential|auth|session|sas|private|cert", re.IGNORECASE)


def mask_url(url: str) -> str:
    """``url`` with its password (``scheme://user:pw@host``) and the values of secret-looking query
    keys replaced by ``***``; a plain path is returned as it is, and a URL that cannot be parsed as
    ``<unparseable url>`` (it might hold a secret in a place this cannot tell)."""
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "<unparseable url>"
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        netloc = f"{parts.username or ''}:{MASK}@{host}" + (f":{port}" if port else "")
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(SECRET_QUERY_KEY.search(k) for k, _ in pairs):
        query = urlencode([(k, MASK if SECRET_QUERY_KEY.search(k) else v) for k, v in pairs], safe="*")
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    # built by hand: urlunsplit drops the '//' of an empty host (sqlite:///file.db)
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "") + (
        f"#{parts.fragment}" if parts.fragment else "")
