"""The demo's flow, driven over HTTP through the gateway exactly as a frontend would:
show -> episode -> script -> takes -> plan -> approval -> render -> download -> style profile."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from editbay_cli.demo.allinone import AllInOne, UnitFailed, all_in_one
from editbay_cli.demo.client import GatewayCallError, GatewayClient
from editbay_cli.demo.display import plan_table, style_table
from editbay_cli.demo.footage import SAMPLE_TAKES, SampleTake, generate_footage, script_text

PLAN_TIMEOUT_S = 300.0
RENDER_TIMEOUT_S = 900.0
TRAINING_TIMEOUT_S = 300.0
FINAL_VIDEO_WAIT_S = 10.0

PLAN_DONE = {"PROPOSED", "APPROVED", "REJECTED", "FAILED"}
JOB_DONE = {"SUCCEEDED", "FAILED", "CANCELLED"}


class DemoError(RuntimeError):
    """The demo could not finish; the message says which step failed and why."""


@dataclass
class DemoResult:
    show: dict[str, Any]
    episode: dict[str, Any]
    takes: list[dict[str, Any]]
    plan: dict[str, Any]
    render_job: dict[str, Any]
    video_path: Path
    reference_video: dict[str, Any] | None = None
    style_profile: dict[str, Any] | None = None
    final_video: dict[str, Any] | None = None
    services: list[str] = field(default_factory=list)


async def run_demo(data_dir: Path, *, console: Console, keep_running: bool = False) -> DemoResult:
    """Start everything in this process, run the whole flow, return what it produced."""
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        raise DemoError("FFmpeg (ffmpeg and ffprobe) must be installed and on PATH")
    data_dir = await asyncio.to_thread(data_dir.resolve)
    try:
        async with all_in_one(data_dir) as stack:
            console.print(
                f"[bold]editbay[/] all-in-one: services {', '.join(stack.services)} on "
                f"{stack.settings.catalog_addr}, gateway on {stack.base_url}"
            )
            client = GatewayClient(stack.base_url)
            try:
                result = await stack.guard(_flow(client, stack, data_dir, console))
            finally:
                await client.close()
            if keep_running:
                console.print(f"Gateway: {stack.base_url}/docs  (Ctrl-C to stop)", highlight=False)
                await stack.guard(_until_signal())
            return result
    except GatewayCallError as error:
        raise DemoError(str(error)) from error
    except UnitFailed as error:
        raise DemoError(f"a service failed: {error}") from error
    except TimeoutError as error:
        raise DemoError("a step took too long; see the log above") from error


async def _until_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _flow(
    client: GatewayClient, stack: AllInOne, data_dir: Path, console: Console
) -> DemoResult:
    footage = await _make_footage(data_dir / "footage", console)
    show = await client.call("POST", "/v1/shows", json_body={"displayName": "Bread at Home"})
    episode = await client.call(
        "POST", f"/v1/{show['name']}/episodes", json_body={"displayName": "Pilot: the loaf"}
    )
    console.print(f"Created [cyan]{show['name']}[/] and [cyan]{episode['name']}[/]")
    script = await client.call(
        "PATCH",
        f"/v1/{episode['name']}/script",
        json_body={"text": script_text()},
        params={"updateMask": "text"},
    )
    console.print(f"Script uploaded: {script.get('sceneCount', 0)} scenes")
    takes = await _upload_takes(client, episode["name"], footage, console)
    plan = await _generate_plan(client, episode["name"], console)
    filenames = {take["name"]: take.get("originalFilename", "") for take in takes}
    console.print(plan_table(plan, filenames))
    plan = await client.call(
        "POST", f"/v1/{plan['name']}:approve", json_body={"etag": plan.get("etag", "")}
    )
    console.print(f"Plan approved: [green]{plan['state']}[/]")
    job = await _render(client, episode["name"], plan["name"], console)
    video = data_dir / f"{episode['name'].rsplit('/', 1)[-1]}.mp4"
    await client.download(f"/v1/{job['name']}:download", video)
    console.print(f"Downloaded the render to {video}", highlight=False)
    reference, profile = await _learn_style(client, stack, show["name"], video, console)
    final_video = await _final_video(client, episode["name"])
    console.print(f"[bold green]Finished video:[/] {video}", highlight=False)
    return DemoResult(
        show=show,
        episode=episode,
        takes=takes,
        plan=plan,
        render_job=job,
        video_path=video,
        reference_video=reference,
        style_profile=profile,
        final_video=final_video,
        services=stack.services,
    )


async def _size(path: Path) -> int:
    return (await asyncio.to_thread(path.stat)).st_size


def _progress(console: Console, *, sizes: bool = False) -> Progress:
    columns = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn()]
    if sizes:
        columns.append(DownloadColumn())
    columns.append(TimeElapsedColumn())
    return Progress(*columns, console=console, transient=False)


async def _make_footage(folder: Path, console: Console) -> list[tuple[SampleTake, Path]]:
    with _progress(console) as progress:
        task = progress.add_task("Generating sample footage", total=len(SAMPLE_TAKES))
        paths = await generate_footage(folder, on_done=lambda _: progress.advance(task))
    return list(zip(SAMPLE_TAKES, paths, strict=True))


async def _upload_takes(
    client: GatewayClient,
    episode: str,
    footage: list[tuple[SampleTake, Path]],
    console: Console,
) -> list[dict[str, Any]]:
    """Upload the takes one by one; the catalog answers once a take is analysed (READY)."""
    takes = []
    with _progress(console, sizes=True) as progress:
        for sample, path in footage:
            label = f"{sample.filename} ({sample.note})"
            task = progress.add_task(f"Uploading {label}", total=await _size(path))

            def sent(n: int, task: Any = task, label: str = label) -> None:
                progress.advance(task, n)
                if progress.tasks[task].finished:
                    progress.update(task, description=f"Analysing {label}")

            take = await client.upload(f"/v1/{episode}/takes:upload", path, on_sent=sent)
            if take.get("state") != "READY":
                raise DemoError(
                    f"take {sample.filename} is {take.get('state')}: "
                    f"{take.get('failureReason', '')}"
                )
            progress.update(task, description=f"[green]Ready[/] {label}")
            takes.append(take)
    return takes


async def _generate_plan(client: GatewayClient, episode: str, console: Console) -> dict[str, Any]:
    plan = await client.call("POST", f"/v1/{episode}/editPlans:generate", json_body={})
    with _progress(console) as progress:
        task = progress.add_task("Planning the edit", total=100)
        plan = await asyncio.wait_for(
            client.watch(
                plan["name"],
                done=lambda p: p.get("state") in PLAN_DONE,
                on_update=_updater(progress, task),
            ),
            PLAN_TIMEOUT_S,
        )
        progress.update(task, completed=100)
    if plan.get("state") != "PROPOSED":
        raise DemoError(f"plan generation ended {plan.get('state')}: {plan.get('failureReason')}")
    return plan


async def _render(
    client: GatewayClient, episode: str, plan: str, console: Console
) -> dict[str, Any]:
    job = await client.call("POST", f"/v1/{episode}/renderJobs", json_body={"editPlan": plan})
    with _progress(console) as progress:
        task = progress.add_task("Rendering", total=100)
        job = await asyncio.wait_for(
            client.watch(
                job["name"],
                done=lambda j: j.get("state") in JOB_DONE,
                on_update=_updater(progress, task),
            ),
            RENDER_TIMEOUT_S,
        )
    if job.get("state") != "SUCCEEDED":
        raise DemoError(f"render ended {job.get('state')}: {job.get('failureReason', '')}")
    return job


def _updater(progress: Progress, task: Any) -> Callable[[dict[str, Any]], None]:
    def update(resource: dict[str, Any]) -> None:
        state = resource.get("state", "")
        progress.update(
            task, completed=float(resource.get("progressPercent", 0.0)), description=state.title()
        )

    return update


async def _learn_style(
    client: GatewayClient, stack: AllInOne, show: str, video: Path, console: Console
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Upload the rendered video as a reference and show the style learned from it."""
    if "training" not in stack.services:
        console.print("[yellow]Training service not installed: no style profile.[/]")
        return None, None
    with _progress(console, sizes=True) as progress:
        task = progress.add_task("Uploading reference video", total=await _size(video))
        reference = await client.upload(
            f"/v1/{show}/referenceVideos:upload",
            video,
            on_sent=lambda n: progress.advance(task, n),
        )
    with _progress(console) as progress:
        analysis = progress.add_task("Analysing style", total=100)
        reference = await asyncio.wait_for(
            client.watch(
                reference["name"],
                done=lambda r: r.get("state") in JOB_DONE,
                on_update=_updater(progress, analysis),
            ),
            TRAINING_TIMEOUT_S,
        )
    if reference.get("state") != "SUCCEEDED":
        raise DemoError(
            f"reference analysis ended {reference.get('state')}: "
            f"{reference.get('failureReason', '')}"
        )
    profile = await client.call("GET", f"/v1/{show}/styleProfile")
    console.print(style_table(profile))
    return reference, profile


async def _final_video(client: GatewayClient, episode: str) -> dict[str, Any] | None:
    """The catalog records the finished video from the render.succeeded event (asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + FINAL_VIDEO_WAIT_S
    while loop.time() < deadline:
        current = await client.call("GET", f"/v1/{episode}")
        if current.get("finalVideo"):
            return current["finalVideo"]  # type: ignore[no-any-return]
        await asyncio.sleep(0.5)
    return None
