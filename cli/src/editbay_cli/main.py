"""The ``editbay`` command.

editbay serve catalog --role api --port 50051
editbay serve gateway --port 8080
editbay demo --data-dir ./editbay-demo
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from editbay_cli.units import ROLE_CHOICES, ServiceMissing
from editbay_common.settings import SERVICES, Settings

SERVE_TARGETS = (*SERVICES, "gateway")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="editbay",
        description="editbay: raw footage and a script in, a finished, reviewed video out.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run one service or the gateway (settings from EDITBAY_* variables)",
    )
    serve.add_argument("target", choices=SERVE_TARGETS, help="what to run")
    serve.add_argument(
        "--role",
        choices=sorted(ROLE_CHOICES),
        default="all",
        help="api (RPCs), worker (queue consumers) or all (default)",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=None,
        help="gRPC port (HTTP port for the gateway); overrides EDITBAY_GRPC_PORT / _HTTP_PORT",
    )
    serve.add_argument("--host", default=None, help="address to bind")

    demo = commands.add_parser(
        "demo",
        help="all-in-one: every service in this process, sample footage, the whole flow",
    )
    demo.add_argument(
        "--data-dir",
        type=Path,
        default=Path("editbay-demo"),
        help="where the databases, media and the finished video go (default ./editbay-demo)",
    )
    demo.add_argument(
        "--keep-running",
        action="store_true",
        help="keep the gateway and services running after the demo, until Ctrl-C",
    )
    return parser


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is between 0 and 65535")
    return value


def settings_for_serve(args: argparse.Namespace) -> Settings:
    settings = Settings()
    changes: dict[str, object] = {}
    gateway = args.target == "gateway"
    if args.port is not None:
        changes["http_port" if gateway else "grpc_port"] = args.port
    if args.host is not None:
        changes["http_host" if gateway else "grpc_host"] = args.host
    return settings.model_copy(update=changes)


def describe_bad_settings(error: ValidationError) -> str:
    """One line per bad EDITBAY_* variable, naming it, what is wrong and the value it had."""
    lines = []
    for problem in error.errors():
        variable = "EDITBAY_" + "_".join(str(part) for part in problem["loc"]).upper()
        lines.append(f"{variable}={problem.get('input')!r}: {problem['msg']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        from editbay_cli.serve import StartupError, serve_gateway, serve_service

        try:
            settings = settings_for_serve(args)
        except ValidationError as error:
            print(f"editbay: bad settings:\n{describe_bad_settings(error)}", file=sys.stderr)
            return 2
        if args.target == "gateway":
            return asyncio.run(serve_gateway(settings))
        try:
            return asyncio.run(serve_service(args.target, settings, ROLE_CHOICES[args.role]))
        except ServiceMissing as error:
            print(f"editbay: {error}", file=sys.stderr)
            return 2
        except StartupError as error:
            print(f"editbay: {args.target} did not start: {error}", file=sys.stderr)
            return 1
    from editbay_cli.demo.command import demo_command

    return demo_command(args.data_dir, keep_running=args.keep_running)


if __name__ == "__main__":
    raise SystemExit(main())
