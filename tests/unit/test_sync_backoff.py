"""The sync engine's backoff: tenacity's exponential ceiling, equal jitter, Retry-After."""

from __future__ import annotations

import random

from sync.engine import BACKOFF_BASE_S, BACKOFF_CAP_S, backoff_delay


def test_the_wait_after_n_failures_lies_between_half_the_ceiling_and_the_ceiling():
    for failures in range(1, 20):
        ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (failures - 1))
        delays = [backoff_delay(failures, random.Random(seed)) for seed in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays), failures
        assert max(delays) - min(delays) > ceiling / 4  # spread out, not one instant


def test_the_first_waits_double_and_the_cap_holds():
    assert 1.0 <= backoff_delay(1, random.Random(1)) <= 2.0
    assert 2.0 <= backoff_delay(2, random.Random(1)) <= 4.0
    assert 150.0 <= backoff_delay(60, random.Random(1)) <= 300.0  # far past the cap


def test_no_failure_means_no_wait_and_retry_after_is_a_floor():
    assert backoff_delay(0, random.Random(1)) == 0.0
    assert backoff_delay(1, random.Random(1), retry_after=30) == 30
    assert backoff_delay(0, random.Random(1), retry_after=5) == 5
    assert backoff_delay(12, random.Random(1), retry_after=1) >= 150.0


def test_a_seeded_rng_repeats_its_waits():
    first = [backoff_delay(n, random.Random(7)) for n in range(1, 10)]
    assert first == [backoff_delay(n, random.Random(7)) for n in range(1, 10)]
