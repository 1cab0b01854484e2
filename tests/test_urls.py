"""A web address from the settings is shown without its user, password, query and
fragment, whatever its password holds; an address that cannot be read as meant is
refused without being quoted."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from service.urls import shown, web_address, without_secrets

#: What a password may hold, the marks that split an address among them.
TAILS = st.text(alphabet="abcXYZ019/?#@:%&=+ ", max_size=12)


@given(TAILS)
@example("/cret")
@example("#cret")
@example("?cret")
@example("@cret")
def test_no_password_is_ever_shown(tail):
    url = f"https://proxyuser:S3cret{tail}@mirror.example:8080/base?key=K3y#frag"
    for text in (shown(url), without_secrets(f"failed ({url})", url)):
        assert "S3cret" not in text and "proxyuser" not in text and "K3y" not in text
    assert shown(url).startswith("https://***@")


@pytest.mark.parametrize(
    ("url", "seen"),
    [
        ("http://u:p@[::1]:8080/a", "http://***@[::1]:8080/a"),
        ("https://mirror.example/api", "https://mirror.example/api"),
        ("http://127.0.0.1:1/x?k=1#f", "http://127.0.0.1:1/x?***#***"),
    ],
)
def test_an_address_is_shown_as_written_but_its_secrets(url, seen):
    assert shown(url) == seen


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://user:Se/cret@mirror.example/", "write it %-encoded"),
        ("https://user:Se#cret@mirror.example/", "write it %-encoded"),
        ("http://127.0.0.1:0/", "from 1 to 65535"),
        ("http://127.0.0.1:99999/", "from 1 to 65535"),
        ("http://127.0.0.1:1/?key=x", "a query"),
        ("ftp://example.org/", "not a web address"),
    ],
)
def test_an_address_that_cannot_be_read_as_meant_is_refused_unquoted(url, why):
    with pytest.raises(ValueError, match=why) as refused:
        web_address(url)
    assert "cret" not in str(refused.value) and url not in str(refused.value)
