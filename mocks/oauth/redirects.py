"""Redirect URI matching: exact, except that a loopback URI matches on any port (RFC 8252 §7.3)."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

# RFC 8252 §7.3 names the IP literals; "localhost" is accepted too because local front-end dev servers use it.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def redirect_uri_matches(registered: str, requested: str) -> bool:
    """Tell whether `requested` is allowed by the `registered` redirect URI."""
    if requested == registered:
        return True
    wanted, given = _split(registered), _split(requested)
    if wanted is None or given is None or wanted.hostname not in LOOPBACK_HOSTS:
        return False
    # Only the port may differ: a native app picks a free port when it starts.
    return (
        given.scheme == wanted.scheme == "http"
        and given.hostname == wanted.hostname
        and given.username is None
        and given.password is None
        and given.path == wanted.path
        and given.query == wanted.query
        and not given.fragment
    )


def _split(uri: str) -> SplitResult | None:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  -- raises ValueError for a port that is not a number
    except ValueError:
        return None
    return parts
