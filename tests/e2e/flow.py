"""The whole editbay flow driven through the gateway's HTTP API, as a frontend would."""

from __future__ import annotations

import asyncio
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

from .footage import SCRIPT, Take


@dataclass
class FlowResult:
    episode: dict
    takes: list[dict]
    plan: dict
    job: dict
    video: Path
    probe: dict


async def poll(client: httpx.AsyncClient, name: str, done: set[str], timeout_s: float = 180):
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        reply = await client.get(f"/v1/{name}")
        reply.raise_for_status()
        body = reply.json()
        if body.get("state") in done:
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{name} still {body.get('state')} after {timeout_s}s: {body}")
        await asyncio.sleep(0.25)


async def upload(client: httpx.AsyncClient, url: str, path: Path, **fields) -> httpx.Response:
    with path.open("rb") as handle:
        return await client.post(
            url,
            files={"file": (path.name, handle, "video/mp4")},
            data={k: str(v) for k, v in fields.items()},
        )


async def create_episode(client: httpx.AsyncClient, title: str) -> tuple[str, str]:
    show = (await client.post("/v1/shows", json={"displayName": title})).json()
    episode = await client.post(f"/v1/{show['name']}/episodes", json={"displayName": "Pilot"})
    assert episode.status_code == 200, episode.text
    return show["name"], episode.json()["name"]


async def run_flow(
    client: httpx.AsyncClient, takes: list[Take], workdir: Path, *, preset: str = "landscape-720p"
) -> FlowResult:
    _, episode = await create_episode(client, "Kitchen Talks")
    script = await client.patch(
        f"/v1/{episode}/script", params={"updateMask": "text"}, json={"text": SCRIPT}
    )
    assert script.status_code == 200, script.text
    assert script.json()["sceneCount"] == 3
    for take in takes:
        reply = await upload(client, f"/v1/{episode}/takes:upload", take.path)
        assert reply.status_code == 200, reply.text
        assert reply.json()["state"] == "READY"

    plan = (await client.post(f"/v1/{episode}/editPlans:generate", json={})).json()
    plan = await poll(client, plan["name"], {"PROPOSED", "FAILED"})
    assert plan["state"] == "PROPOSED", plan
    approved = await client.post(f"/v1/{plan['name']}:approve", json={})
    assert approved.status_code == 200, approved.text

    job = await client.post(
        f"/v1/{episode}/renderJobs", json={"editPlan": plan["name"], "preset": preset}
    )
    assert job.status_code == 200, job.text
    job = await poll(client, job.json()["name"], {"SUCCEEDED", "FAILED", "CANCELLED"}, 300)
    assert job["state"] == "SUCCEEDED", job

    video = workdir / "final.mp4"
    reply = await client.get(f"/v1/{job['name']}:download", follow_redirects=True)
    assert reply.status_code == 200, reply.text[:300]
    video.write_bytes(reply.content)
    episode_body = (await client.get(f"/v1/{episode}")).json()
    listed = (await client.get(f"/v1/{episode}/takes")).json()["takes"]
    return FlowResult(episode_body, listed, plan, job, video, ffprobe(video))


def check_result(result: FlowResult, takes: list[Take], *, size: tuple[int, int]) -> None:
    """The output has both streams at the preset size, lasts exactly what the plan says, and
    the plan chose the take the footage was made to win in each scene."""
    streams = {s["codec_type"]: s for s in result.probe["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert (streams["video"]["width"], streams["video"]["height"]) == size
    assert streams["audio"]["codec_name"] == "aac"
    duration = float(result.probe["format"]["duration"])
    assert abs(duration - planned_duration(result.plan)) <= 0.1

    filename = {t["name"]: t["originalFilename"] for t in result.takes}
    chosen = {c["sceneNumber"]: filename[c["take"]] for c in result.plan["choices"]}
    best = {t.scene: t.path.name for t in takes if t.best}
    assert chosen == best
    for choice in result.plan["choices"]:
        assert 0 < choice["confidence"] <= 1 and choice["rationale"]


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    return json.loads(out)


def planned_duration(plan: dict) -> float:
    return sum(c["outSeconds"] - c.get("inSeconds", 0.0) for c in plan["choices"])
