"""When a batch's errors make it fail (retried) rather than done."""

from __future__ import annotations

from proactive.engine.tasks import failing


def test_more_than_half_of_the_persons_read_failing_fails_the_batch() -> None:
    assert failing({"examined": 10, "errors": 6})
    assert not failing({"examined": 10, "errors": 5})
    assert not failing({"examined": 0, "errors": 0})


def test_persons_left_unread_for_their_age_do_not_dilute_the_errors() -> None:
    # An ASPA batch of 1,000 of which 700 too young to read: 300 reads, all failed.
    assert failing({"examined": 1000, "skipped_age": 700, "errors": 300})
    assert not failing({"examined": 1000, "skipped_age": 1000, "errors": 0})
