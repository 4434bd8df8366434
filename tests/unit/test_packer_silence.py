"""When the Packer process has been silent long enough to say so, on a fake clock."""

from __future__ import annotations

from ebami.packer.process import SilenceWatch
from tests.fakes.clock import FakeClock


def test_a_report_is_due_after_the_silence_and_then_at_the_same_pace() -> None:
    clock = FakeClock()
    watch = SilenceWatch(30.0, clock)
    clock.advance(29.0)
    assert watch.due() is None
    assert watch.timeout() == 1.0
    clock.advance(1.0)
    assert watch.due() == 30.0
    assert watch.due() is None  # reported: the next one is 30 s away
    clock.advance(31.0)
    assert watch.due() == 61.0  # the silence so far, not since the last report


def test_output_starts_the_silence_again() -> None:
    clock = FakeClock()
    watch = SilenceWatch(30.0, clock)
    clock.advance(25.0)
    watch.heard()
    clock.advance(25.0)
    assert watch.due() is None
    assert watch.timeout() == 5.0
    clock.advance(10.0)
    assert watch.due() == 35.0
