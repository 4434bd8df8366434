"""Real signals to this process: SIGTERM stops work like Ctrl-C; clean-up holds both back."""

from __future__ import annotations

import os
import signal

import pytest

from ebami.interrupts import held, interruptible


def test_sigterm_raises_keyboard_interrupt_inside_and_not_after() -> None:
    before = signal.getsignal(signal.SIGTERM)

    def terminate_self() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        signal.sigtimedwait([], 0)  # give the handler its turn

    with interruptible(), pytest.raises(KeyboardInterrupt):
        terminate_self()
    assert signal.getsignal(signal.SIGTERM) == before


def test_held_records_signals_instead_of_raising() -> None:
    before = signal.getsignal(signal.SIGINT)
    with held() as received:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        signal.sigtimedwait([], 0)
    assert received == [signal.SIGINT, signal.SIGTERM]
    assert signal.getsignal(signal.SIGINT) == before
