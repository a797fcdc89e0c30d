"""The `posecoach` command: migrate, serve, analyze, client."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from api.settings import Settings, load_settings
from db.engine import make_engine
from db.migrate import DatabaseNotMigratedError, ensure_at_head, upgrade

logger = logging.getLogger("posecoach")

#: Runs the Serve application for ``posecoach serve`` (migrated database, parsed args):
#: handed in by the composition root, :mod:`inference.serve.cli`, which owns Ray.
ServeRunner = Callable[[Settings, argparse.Namespace], int]


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        messages = "; ".join(str(error["msg"]) for error in exc.errors())
        sys.exit(f"posecoach: invalid configuration: {messages}")


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    """Upgrade the configured database to the newest schema."""
    engine = make_engine(settings.sqlalchemy_url())
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    print(f"database at head ({engine.url.render_as_string(hide_password=True)})")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace, run_serve: ServeRunner | None) -> int:
    """Migrate, then run the Serve application (ray_config.yaml) through ``run_serve``.

    The API package never imports Ray: the composition root (the ``posecoach`` console
    script, :mod:`inference.serve.cli`) hands the runner in. ``--no-ray`` runs the API
    alone under uvicorn (REST and /metrics only: without a pose backend the WebSocket
    answers 1013).
    """
    engine = make_engine(settings.sqlalchemy_url())
    try:
        if args.no_ray:
            ensure_at_head(engine)
        else:
            upgrade(engine)
    except DatabaseNotMigratedError as exc:
        sys.exit(f"posecoach: {exc}")
    finally:
        engine.dispose()
    if not args.no_ray:
        if run_serve is None:
            sys.exit("posecoach: serving with Ray needs the `posecoach` console script")
        return run_serve(settings, args)
    import uvicorn  # imported here: the other commands do not need a server

    from api.app import create_app
    from api.http_server import uvicorn_limits
    from api.metrics import PrometheusBackend

    app = create_app(settings, engine=engine, metrics_backend=PrometheusBackend())
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        # The app applies X-Forwarded-* itself, for FORWARDED_ALLOW_IPS only.
        proxy_headers=False,
        ws_per_message_deflate=False,
        **uvicorn_limits(settings),
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="posecoach", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the database to the newest schema")
    sub.add_parser(
        "analyze",
        add_help=False,
        help="count reps and judge form in a video: analyze VIDEO --exercise TYPE "
        "[--json] [--annotate OUT.mp4] (see `posecoach analyze --help`)",
    )
    sub.add_parser(
        "client",
        add_help=False,
        help="stream a video file to a server like a camera: client VIDEO --exercise TYPE "
        "[--url URL] [--fps F] [--json] (see `posecoach client --help`)",
    )
    serve = sub.add_parser("serve", help="start the API server")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="bind address of the public ports (default 127.0.0.1; Ray's own stay there)",
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--no-ray", action="store_true", help="plain uvicorn, no pose backend")
    serve.add_argument("--config", default=None, help="Serve config (default ray_config.yaml)")
    return parser


def cmd_analyze(argv: Sequence[str]) -> int:
    """Analyze a video file offline: `posecoach analyze VIDEO --exercise TYPE [...]`."""
    # The one place the CLI loads the pose engine. It runs in its own process, never in
    # the API server; the import-linter contract names this single exception.
    from inference.analyze_cli import run_analyze

    return run_analyze(argv)


def cmd_client(argv: Sequence[str]) -> int:
    """Stream a video to a server: `posecoach client VIDEO --exercise TYPE [...]`."""
    from api.streamer.cli import main as client_main  # a client: no settings, no database

    return client_main(argv)


def main(argv: Sequence[str] | None = None, *, run_serve: ServeRunner | None = None) -> int:
    """The `posecoach` commands; ``run_serve`` serves with Ray (the composition root's)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["analyze"]:
        return cmd_analyze(arguments[1:])  # needs no settings: no server, no database
    if arguments[:1] == ["client"]:
        return cmd_client(arguments[1:])
    args = build_parser().parse_args(arguments)
    settings = _settings_or_exit()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "serve":
        return cmd_serve(settings, args, run_serve)
    return cmd_migrate(settings, args)


if __name__ == "__main__":
    sys.exit(main())
