"""The pose deployment's autoscaling: the engine's busy share, and replicas for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from inference.serve.autoscale import ENGINE_BUSY, BusyMeter, EngineBusyPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_busy_share_of_the_window() -> None:
    clock = Clock()
    meter = BusyMeter(window_s=10.0, clock=clock)
    for _ in range(10):  # 1 s of work per 2 s
        clock.now += 1.0
        meter.record(1.0)  # a batch that ran over the last second
        clock.now += 1.0
    assert meter.fraction() == pytest.approx(0.5, abs=0.01)
    clock.now += 10.0  # idle for a whole window
    assert meter.fraction() == 0.0


def test_a_saturated_engine_reads_one_and_a_young_meter_its_own_age() -> None:
    clock = Clock()
    meter = BusyMeter(window_s=10.0, clock=clock)
    for _ in range(4):
        clock.now += 0.5
        meter.record(0.5)
    assert meter.fraction() == pytest.approx(1.0)  # 2 s old, busy all along
    clock.now += 2.0
    assert meter.fraction() == pytest.approx(0.5)


def test_a_batch_straddling_the_window_start_counts_its_part_inside() -> None:
    clock = Clock()
    meter = BusyMeter(window_s=10.0, clock=clock)
    clock.now += 20.0
    meter.record(4.0)  # ran from 116 to 120
    clock.now += 8.0  # window 118..128: 2 s of that batch are inside
    assert meter.fraction() == pytest.approx(0.2)


@dataclass
class Ctx:
    current_num_replicas: int
    aggregated_metrics: dict[str, dict[Any, float]] | None


@pytest.mark.parametrize(
    ("busy", "current", "desired"),
    [
        ({"a": 1.0}, 1, 2),  # one saturated replica: grow
        ({"a": 1.0, "b": 1.0}, 2, 4),
        ({"a": 0.3, "b": 0.25}, 2, 1),  # little work: shrink to one
        ({"a": 0.6}, 1, 1),  # exactly at the target: stay
        ({"a": 0.0, "b": 0.0}, 2, 1),
    ],
)
def test_policy_asks_for_the_replicas_the_busy_time_needs(
    busy: dict[str, float], current: int, desired: int
) -> None:
    wanted, state = EngineBusyPolicy(target_busy=0.6)(Ctx(current, {ENGINE_BUSY: busy}))
    assert wanted == desired
    assert state["engine_busy"] == pytest.approx(sum(busy.values()))


def test_without_reports_the_policy_keeps_the_current_count() -> None:
    assert EngineBusyPolicy()(Ctx(3, None)) == (3, {})
    assert EngineBusyPolicy()(Ctx(2, {})) == (2, {})


@pytest.mark.parametrize("target", [0.0, 1.5])
def test_target_must_be_a_share(target: float) -> None:
    with pytest.raises(ValueError):
        EngineBusyPolicy(target_busy=target)
