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
    if any(mark in _userinfo(value) for mark in "/?#"):
        raise ValueError(
            "its user or password holds a '/', '?' or '#': write it %-encoded (%2F, %3F, %23)"
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not a web address (expected http(s)://HOST[:PORT])")
    try:
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("its port is not a number from 1 to 65535")
    if parts.query or parts.fragment or value.rstrip().endswith(("?", "#")):
        raise ValueError(
            "an address with a query (?…) or a fragment (#…) cannot have paths added "
            "after it; give http(s)://HOST[:PORT][/PATH]"
        )
    return value


def shown(url: str) -> str:
    """`url` as a message may show it: its user and password, query and fragment hidden
    (a password holding a raw '/', '?' or '#' is hidden whole too)."""
    user = _userinfo(url)
    if user:
        url = url.replace(f"{user}@", f"{HIDDEN}@", 1)
    parts = urlsplit(url)
    query, fragment = (HIDDEN if part else "" for part in (parts.query, parts.fragment))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, fragment))


def without_secrets(text: str, url: str) -> str:
    """`text` with `url`'s user, password, query and fragment hidden wherever they appear
    (the user and password first: a raw '#' in a password starts no fragment)."""
    user = _userinfo(url)
    if user:
        text = text.replace(user, HIDDEN)
        url = url.replace(f"{user}@", "", 1)
    parts = urlsplit(url)
    for secret in sorted(filter(None, [parts.query, parts.fragment]), key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text


def _userinfo(url: str) -> str:
    """What stands before the host's "@" ("user:password"), or "". Read up to the last
    "@" of the address, not by `urlsplit`, which ends the host at a raw '/', '?' or '#'
    that a password may hold: that would leave the password in the "path" it shows."""
    _, scheme, rest = url.partition("://")
    return rest.rpartition("@")[0] if scheme and "@" in rest else ""
