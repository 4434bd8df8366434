"""Real signals to this process: SIGTERM stops work like Ctrl-C; a clean-up holds both back
and they are raised once it is done; the previous handlers come back."""

from __future__ import annotations

import os
import signal

import pytest

from ebami.core.interrupts import Stop, stoppable


def deliver(*signals: signal.Signals) -> None:
    for signum in signals:
        os.kill(os.getpid(), signum)
    signal.sigtimedwait([], 0)  # give the handler its turn


def test_sigterm_raises_keyboard_interrupt_inside_and_not_after() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stoppable(), pytest.raises(KeyboardInterrupt):
        deliver(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) == before


def test_holding_records_signals_and_raises_when_the_clean_up_is_done() -> None:
    before = signal.getsignal(signal.SIGINT)
    finished: list[bool] = []

    def clean_up(stop: Stop) -> None:
        with stop.holding():
            deliver(signal.SIGINT, signal.SIGTERM)
            finished.append(True)  # not cut short

    with stoppable() as stop:
        with pytest.raises(KeyboardInterrupt):
            clean_up(stop)
        assert stop.received == [signal.SIGINT, signal.SIGTERM]
    assert finished == [True]
    assert signal.getsignal(signal.SIGINT) == before


def test_holding_without_a_signal_raises_nothing() -> None:
    with stoppable() as stop, stop.holding():
        pass
    assert stop.received == []
