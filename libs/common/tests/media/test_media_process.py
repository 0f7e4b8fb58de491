"""Running FFmpeg: runs in flight together end together, whichever way one of them ends."""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest

from editbay_common.media import process

# An FFmpeg run that would take minutes: a test picture encoded to nowhere.
LONG = [*process.ffmpeg_base_args(), "-re", "-f", "lavfi", "-i", "testsrc2=d=600",
        "-f", "null", "-"]  # fmt: skip


def ffmpeg_children() -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid,ppid,comm"], capture_output=True, text=True).stdout
    rows = [line.split() for line in out.splitlines()[1:]]
    return [int(r[0]) for r in rows if r[2] == "ffmpeg" and int(r[1]) == os.getpid()]


async def test_a_failing_run_ends_the_others_and_its_error_is_raised():
    bad = [*process.ffmpeg_base_args(), "-f", "lavfi", "-i", "nosuchfilter", "-f", "null", "-"]

    async def fail_later() -> None:
        await asyncio.sleep(0.5)  # the long run is up by now
        assert ffmpeg_children()
        await process.run(bad)

    with pytest.raises(process.FFmpegError, match="exited with"):
        await process.together(process.run(LONG), fail_later())
    assert ffmpeg_children() == []


async def test_cancelling_the_caller_ends_every_run_even_one_still_starting():
    for delay in (0.0, 0.001, 0.01, 0.3):  # the last: both runs are up
        task = asyncio.create_task(process.together(process.run(LONG), process.run(LONG)))
        await asyncio.sleep(delay)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ffmpeg_children() == [], f"left running when cancelled after {delay}s"


async def test_results_come_back_in_order():
    ok = [*process.ffmpeg_base_args(), "-f", "lavfi", "-i", "testsrc2=d=0.1", "-f", "null", "-"]
    results = await process.together(process.run(ok), asyncio.sleep(0, "second"))
    assert results[0].returncode == 0 and results[1] == "second"
