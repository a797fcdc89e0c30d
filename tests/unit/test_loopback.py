"""inference.serve.loopback's pure parts: which hosts are loopback, which binds move."""

from __future__ import annotations

import pytest

from inference.serve import loopback


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104
        ("::", False),
        ("192.0.2.2", False),
        ("::ffff:192.0.2.2", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert loopback.is_loopback(host) is expected


@pytest.mark.parametrize(
    ("address", "host", "expected"),
    [
        ("[::]:0", "127.0.0.1", "127.0.0.1:0"),
        ("0.0.0.0:50051", "127.0.0.1", "127.0.0.1:50051"),
        (":9000", "127.0.0.1", "127.0.0.1:9000"),
        ("[::]:0", "::1", "[::1]:0"),
        # An address someone chose stays as it is.
        ("192.0.2.2:8000", "127.0.0.1", "192.0.2.2:8000"),
        ("[::1]:7000", "127.0.0.1", "[::1]:7000"),
        ("localhost:7000", "127.0.0.1", "localhost:7000"),
        ("unix:/tmp/x.sock", "127.0.0.1", "unix:/tmp/x.sock"),
    ],
)
def test_rebind_wildcard(address: str, host: str, expected: str) -> None:
    assert loopback.rebind_wildcard(address, host) == expected


def test_prepare_environment_sets_ray_single_host_mode() -> None:
    environ = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1", "OTHER": "x"}
    loopback.prepare_environment(environ)
    assert environ == {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "OTHER": "x"}
