"""Web addresses from the configuration: checked once, and shown without their secrets.

An operator may reach the portal through a proxy or mirror whose address carries a
user and password (`https://user:pass@mirror/`); an error names the address it failed
on, so every message shows it through `shown`, never as written.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

HIDDEN = "***"


def web_address(value: str) -> str:
    """`value` if it is an http(s) address with a host, a valid port and no query or
    fragment (paths are added after it), else ValueError saying which."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not a web address (expected http(s)://HOST[:PORT])")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number or out of range)
    except ValueError:
        raise ValueError("its port is not a number from 0 to 65535") from None
    if parts.query or parts.fragment or value.rstrip().endswith(("?", "#")):
        raise ValueError(
            "an address with a query (?…) or a fragment (#…) cannot have paths added "
            "after it; give http(s)://HOST[:PORT][/PATH]"
        )
    return value


def shown(url: str) -> str:
    """`url` as a message may show it: its user and password, query and fragment hidden."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{HIDDEN}@{netloc.rpartition('@')[2]}"
    query, fragment = (HIDDEN if part else "" for part in (parts.query, parts.fragment))
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def without_secrets(text: str, url: str) -> str:
    """`text` with `url`'s user, password, query and fragment hidden wherever they appear."""
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    secrets = [user, parts.query, parts.fragment]
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text
