"""The second process answers in order, raises what its work raised, and never leaves
the first one waiting on an answer that cannot come."""

from __future__ import annotations

import pytest

from service.second_process import SecondProcess, SecondProcessFailed


class Refused(Exception):
    """An exception the caller expects."""


def work(request: object) -> object:
    if request == "refuse":
        raise Refused("refused, as expected")
    if request == "bug":
        raise ZeroDivisionError("a bug")
    if request == "unpicklable":
        return lambda: None  # a function defined here does not pickle
    return request


def test_answers_come_in_order_and_expected_exceptions_as_raised():
    with SecondProcess(work, (Refused,)) as second:
        for request in ("a", "refuse", "b"):
            second.send(request)
        assert second.receive() == "a"
        with pytest.raises(Refused, match="refused, as expected"):
            second.receive()
        assert second.receive() == "b"


@pytest.mark.parametrize(
    ("request_", "words"), [("bug", "ZeroDivisionError: a bug"), ("unpicklable", "pickle")]
)
def test_a_bug_there_is_raised_here_with_its_traceback_and_the_next_answer_still_comes(
    request_, words
):
    with SecondProcess(work, (Refused,)) as second:
        second.send(request_)
        second.send("after")
        with pytest.raises(SecondProcessFailed, match=words):
            second.receive()
        assert second.receive() == "after"
