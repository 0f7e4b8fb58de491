"""Argument parsing of the editbay command."""

from __future__ import annotations

from pathlib import Path

import pytest

from editbay_cli.main import build_parser, main, settings_for_serve
from editbay_cli.units import ROLE_CHOICES, ServiceMissing, load_build_unit


def test_serve_defaults_to_all_roles() -> None:
    args = build_parser().parse_args(["serve", "catalog"])
    assert (args.command, args.target, args.role, args.port) == ("serve", "catalog", "all", None)
    assert ROLE_CHOICES[args.role] == frozenset({"api", "worker"})


def test_serve_role_and_port_go_to_the_grpc_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITBAY_GRPC_PORT", "50000")
    args = build_parser().parse_args(["serve", "renderer", "--role", "worker", "--port", "0"])
    settings = settings_for_serve(args)
    assert ROLE_CHOICES[args.role] == frozenset({"worker"})
    assert settings.grpc_port == 0
    assert settings.http_port != 0


def test_gateway_port_is_the_http_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITBAY_GRPC_PORT", "50123")
    args = build_parser().parse_args(["serve", "gateway", "--port", "8181", "--host", "0.0.0.0"])
    settings = settings_for_serve(args)
    assert (settings.http_port, settings.http_host) == (8181, "0.0.0.0")
    assert settings.grpc_port == 50123


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITBAY_GRPC_PORT", "50999")
    settings = settings_for_serve(build_parser().parse_args(["serve", "planner"]))
    assert settings.grpc_port == 50999


@pytest.mark.parametrize(
    "argv",
    [
        ["serve"],
        ["serve", "nonsense"],
        ["serve", "catalog", "--role", "boss"],
        ["serve", "catalog", "--port", "70000"],
        ["serve", "catalog", "--port", "http"],
        [],
    ],
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(argv)
    assert caught.value.code == 2


def test_demo_arguments() -> None:
    args = build_parser().parse_args(["demo"])
    assert (args.data_dir, args.keep_running) == (Path("editbay-demo"), False)
    args = build_parser().parse_args(["demo", "--data-dir", "x/y", "--keep-running"])
    assert (args.data_dir, args.keep_running) == (Path("x/y"), True)


def test_unknown_service_is_refused_by_the_loader() -> None:
    with pytest.raises(ValueError):
        load_build_unit("gateway")
    assert callable(load_build_unit("catalog"))
    assert issubclass(ServiceMissing, RuntimeError)


def test_a_bad_setting_is_a_clear_message_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EDITBAY_GRPC_PORT", "abc")
    monkeypatch.setenv("EDITBAY_LOG_LEVEL", "LOUD")
    assert main(["serve", "catalog"]) == 2
    err = capsys.readouterr().err
    assert "EDITBAY_GRPC_PORT='abc'" in err
    assert "EDITBAY_LOG_LEVEL='LOUD'" in err
    assert "Traceback" not in err


def test_an_unreachable_broker_is_a_clear_message_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("EDITBAY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EDITBAY_BROKER_URL", "amqp://guest:s3cret@127.0.0.1:1/")
    assert main(["serve", "catalog"]) == 1
    err = capsys.readouterr().err
    assert "catalog did not start: cannot connect to the broker at" in err
    assert "amqp://guest:***@127.0.0.1:1/" in err
    assert "s3cret" not in err and "Traceback" not in err


def test_an_unreachable_database_is_a_clear_message_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("EDITBAY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EDITBAY_DATABASE_URL", "postgresql+asyncpg://u:s3cret@127.0.0.1:1/x")
    assert main(["serve", "planner"]) == 1
    err = capsys.readouterr().err
    assert "planner did not start: cannot open the database at" in err
    assert "s3cret" not in err and "Traceback" not in err
