"""The Grafana dashboard and alert rules name metrics the code really exports.

Ray exports a replica's ``ray.serve.metrics`` with a ``ray_`` prefix; counters get
``_total``, histograms ``_bucket``/``_sum``/``_count`` (the system tests scrape them so).
No Prometheus or Grafana is started here: these checks catch a renamed metric, a panel
on a series that never exists, or a metric nobody can see.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pytest
import yaml

from api.metrics import AppMetrics, NullBackend
from tests.conftest import REPO_ROOT

MONITORING = REPO_ROOT / "k8s" / "monitoring"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
SERIES = re.compile(r"\bray_(posecoach_\w+?)(_total|_bucket|_sum|_count)?\b(\{[^}]*\})?")


class Recorder(NullBackend):
    """A backend that remembers what AppMetrics defines."""

    def __init__(self) -> None:
        self.defined: dict[str, tuple[str, tuple[str, ...]]] = {}

    def counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> Any:
        self.defined[name] = ("counter", tuple(labels))
        return super().counter(name, doc, labels)

    def histogram(
        self, name: str, doc: str, buckets: Sequence[float], labels: Sequence[str] = ()
    ) -> Any:
        self.defined[name] = ("histogram", tuple(labels))
        return super().histogram(name, doc, buckets, labels)

    def gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> Any:
        self.defined[name] = ("gauge", tuple(labels))
        return super().gauge(name, doc, labels)


@pytest.fixture(scope="module")
def defined() -> dict[str, tuple[str, tuple[str, ...]]]:
    recorder = Recorder()
    AppMetrics(recorder)
    # The deployments' own metrics (made in their __init__, inside Ray).
    for module in sorted((REPO_ROOT / "inference" / "serve").glob("*.py")):
        pattern = r'serve_metrics\.(Counter|Histogram|Gauge)\(\s*"(\w+)"'
        for kind, name in re.findall(pattern, module.read_text()):
            recorder.defined[name] = (kind.lower(), ())
    assert len(recorder.defined) >= 11
    return recorder.defined


def expressions() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    rules = yaml.safe_load((MONITORING / "rules.yaml").read_text())
    exprs += [r["expr"] for g in rules["spec"]["groups"] for r in g["rules"]]
    return exprs


def test_every_series_is_exported_by_the_code(
    defined: dict[str, tuple[str, tuple[str, ...]]],
) -> None:
    seen = 0
    for expr in expressions():
        for name, suffix, selector in SERIES.findall(expr):
            seen += 1
            assert name in defined, f"{expr!r} uses {name}, which no code defines"
            kind, labels = defined[name]
            assert (suffix or "") in SUFFIXES[kind], f"{name} is a {kind}: {expr!r}"
            for label in re.findall(r"(\w+)\s*=", selector):
                assert label in labels, f"{name} has no label {label!r}: {expr!r}"
    assert seen > 10


def test_dashboard_shows_every_metric(defined: dict[str, tuple[str, tuple[str, ...]]]) -> None:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    shown = {
        name
        for p in dashboard["panels"]
        for t in p["targets"]
        for name, *_ in SERIES.findall(t["expr"])
    }
    assert shown == set(defined)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_series_pattern_catches_a_wrong_suffix(
    defined: dict[str, tuple[str, tuple[str, ...]]],
) -> None:
    ((name, suffix, _),) = SERIES.findall("rate(ray_posecoach_frames_processed_bucket[1m])")
    assert (name, suffix) == ("posecoach_frames_processed", "_bucket")
    assert suffix not in SUFFIXES[defined[name][0]]
