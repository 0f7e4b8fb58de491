"""``editbay demo``: run the guided flow and turn failures into a clear message and exit code."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

from editbay_cli.demo.run import DemoError, run_demo


def demo_command(data_dir: Path, *, keep_running: bool = False) -> int:
    console = Console()
    # The services log warnings and errors only; the demo's own output is the console.
    # (basicConfig would give the handler its "LEVEL:name:message" format; Rich shows the level.)
    logging.basicConfig(
        level=logging.WARNING,
        format="%(name)s: %(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
        force=True,
    )
    try:
        asyncio.run(run_demo(data_dir, console=console, keep_running=keep_running))
    except DemoError as error:
        console.print(f"[bold red]demo failed:[/] {error}")
        return 1
    except Exception as error:  # a bug: say so plainly, with the traceback for a report
        console.print_exception()
        console.print(f"[bold red]demo failed unexpectedly:[/] {error!r}")
        return 1
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        return 130
    return 0
