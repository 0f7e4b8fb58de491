"""Running FFmpeg and ffprobe as subprocesses, safely.

Every FFmpeg process runs in its own process group (``start_new_session``) so that a timeout,
a cancellation or a shutdown kills FFmpeg and anything it spawned, never leaving it behind.
The event loop is never blocked: we use asyncio subprocesses.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

FFMPEG = os.environ.get("EDITBAY_FFMPEG", "ffmpeg")
FFPROBE = os.environ.get("EDITBAY_FFPROBE", "ffprobe")

# Only local files and pipes: a hostile playlist cannot reach the network or other protocols.
PROTOCOL_WHITELIST = "file,pipe"

T = TypeVar("T")


class FFmpegError(RuntimeError):
    """FFmpeg exited with an error; ``stderr_tail`` holds the last lines it printed."""

    def __init__(self, message: str, returncode: int | None, stderr_tail: str) -> None:
        super().__init__(f"{message}: {stderr_tail.strip()[-500:]}" if stderr_tail else message)
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class FFmpegTimeout(FFmpegError):
    """FFmpeg ran longer than its timeout and was killed."""


@dataclass(frozen=True)
class ProcessResult:
    returncode: int
    stdout: bytes
    stderr: bytes


ProgressCallback = Callable[[dict[str, str]], Awaitable[None] | None]


def kill_group(proc: asyncio.subprocess.Process) -> None:
    """Kill the process group of ``proc`` (FFmpeg and any children)."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


async def run(
    args: Sequence[str],
    *,
    timeout: float | None = None,  # noqa: ASYNC109 - a limit of FFmpeg's run, reported as FFmpegTimeout
    stdin: bytes | None = None,
    on_progress: ProgressCallback | None = None,
    check: bool = True,
) -> ProcessResult:
    """Run a command in its own process group and return its output.

    ``on_progress`` receives each block of FFmpeg ``-progress pipe:1`` key/value pairs (the caller
    adds ``-progress pipe:1`` to ``args``); stdout is then consumed line by line instead of kept.
    On timeout or cancellation the whole process group is killed.
    """
    spawn = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
    )
    try:
        proc = await asyncio.shield(spawn)
    except asyncio.CancelledError:
        # Cancelled while the process was being started: it may exist already; end it too.
        with contextlib.suppress(Exception):
            started = await spawn
            kill_group(started)
            await started.wait()
        raise
    try:
        result = await asyncio.wait_for(_communicate(proc, stdin, on_progress), timeout)
    except TimeoutError:
        kill_group(proc)
        await proc.wait()
        name = os.path.basename(args[0])
        raise FFmpegTimeout(f"{name} timed out after {timeout}s", None, "") from None
    except BaseException:
        kill_group(proc)
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())
        raise
    if check and result.returncode != 0:
        tail = result.stderr.decode("utf-8", "replace")[-2000:]
        name = os.path.basename(args[0])
        raise FFmpegError(f"{name} exited with {result.returncode}", result.returncode, tail)
    return result


async def _communicate(
    proc: asyncio.subprocess.Process,
    stdin: bytes | None,
    on_progress: ProgressCallback | None,
) -> ProcessResult:
    if on_progress is None:
        out, err = await proc.communicate(stdin)
        return ProcessResult(proc.returncode or 0, out, err)
    assert proc.stdout is not None and proc.stderr is not None
    if stdin is not None and proc.stdin is not None:
        proc.stdin.write(stdin)
        await proc.stdin.drain()
        proc.stdin.close()
    stderr_task = asyncio.create_task(proc.stderr.read())
    block: dict[str, str] = {}
    async for raw in proc.stdout:
        key, _, value = raw.decode("utf-8", "replace").strip().partition("=")
        if not key:
            continue
        block[key] = value
        if key == "progress":  # FFmpeg ends each progress block with progress=continue|end
            maybe = on_progress(block)
            if maybe is not None:
                await maybe
            block = {}
    err = await stderr_task
    returncode = await proc.wait()
    return ProcessResult(returncode, b"", err)


def ffmpeg_base_args() -> list[str]:
    """Arguments every FFmpeg call starts with: quiet, no stdin interaction, overwrite."""
    return [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]


async def together(*aws: Awaitable[T]) -> list[T]:
    """Await all of ``aws`` at once; when one fails (or the caller is cancelled), cancel the others,
    which kills their FFmpeg process groups, wait for them, and raise that first error."""
    tasks = [asyncio.ensure_future(aw) for aw in aws]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        pending = [t for t in tasks if not t.done()]
        for task in pending:
            # Once only: a second cancel would interrupt a run that is waiting for its killed
            # FFmpeg to exit (gather has already cancelled them all if we were cancelled).
            if not task.cancelling():
                task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
