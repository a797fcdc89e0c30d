"""The ``posecoach`` console script: the composition root of the whole program.

The top layer: it imports the API's commands (:mod:`api.cli`) and hands them the one
thing the API must not do itself, running the Serve application on Ray. ``posecoach
serve`` migrates the database (the API's job), then starts an embedded local Ray in this
process, deploys ray_config.yaml and waits for SIGTERM or SIGINT; nothing is exec'd.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from api import cli as api_cli
from api.settings import Settings
from inference.serve import loopback

logger = logging.getLogger("posecoach.serve")


def run_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Run ray_config.yaml (or ``--config``) on an embedded local Ray until a signal."""
    # Ray reads its environment once, when it is imported: loopback first, then ray.
    loopback.prepare_environment(os.environ)
    # Every replica reads the settings at its start (KubeRay passes them as environment
    # too): the Ray processes started below inherit the same, possibly generated, key.
    os.environ["SECRET_KEY"] = settings.secret
    from inference.serve import runner

    config = runner.load_config(
        args.config or runner.DEFAULT_CONFIG, host=args.host, port=args.port
    )
    stop = threading.Event()

    def _stop(signum: int, _: object) -> None:
        logger.info("signal %s: shutting down", signum)
        stop.set()

    try:
        runner.start_local(config)
        # After ray.init, which installs its own SIGTERM handler: ours shuts Serve down.
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        host, port = runner.public_address(config)
        logger.info("posecoach serving on http://%s:%s/", host, port)
        stop.wait()
    finally:
        runner.stop_local()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``posecoach`` console script."""
    return api_cli.main(argv, run_serve=run_serve)


if __name__ == "__main__":
    sys.exit(main())
