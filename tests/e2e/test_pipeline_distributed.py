"""The whole pipeline with every service as its own process on PostgreSQL, RabbitMQ and an
S3-compatible server, driven through the gateway."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aio_pika
import httpx
import pytest

from .flow import (
    check_result,
    create_episode,
    ffprobe,
    planned_duration,
    poll,
    run_flow,
    upload,
)
from .footage import SCRIPT, Take
from .platform import Platform


@pytest.fixture
async def client(platform: Platform):
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=60) as http:
        yield http


async def test_flow_end_to_end(client, takes: list[Take], tmp_path: Path):
    result = await run_flow(client, takes, tmp_path)
    check_result(result, takes, size=(1280, 720))

    # render.succeeded reaches the catalog, which records the final video.
    for _ in range(60):
        episode = (await client.get(f"/v1/{result.episode['name']}")).json()
        if episode.get("finalVideo"):
            break
        await asyncio.sleep(0.25)
    assert episode["finalVideo"]["renderJob"] == result.job["name"]


async def test_bad_input_maps_to_http_errors(client, tmp_path: Path):
    missing = await client.get("/v1/shows/no-such-show")
    assert missing.status_code == 404
    detail = missing.json()["error"]["details"][0]
    assert detail["reason"] == "SHOW_NOT_FOUND"

    malformed = await client.post("/v1/shows", json={"displayName": 42, "bogus": 1})
    assert malformed.status_code == 400

    _, episode = await create_episode(client, "Bad input")
    garbage = tmp_path / "S01_T01.mp4"
    garbage.write_bytes(b"this is not a video at all" * 100)
    rejected = await upload(client, f"/v1/{episode}/takes:upload", garbage)
    assert rejected.status_code == 400
    assert rejected.json()["error"]["details"][0]["reason"] == "MEDIA_REJECTED"
    listed = (await client.get(f"/v1/{episode}/takes")).json()
    assert listed.get("takes", []) == []

    plan = await client.get(f"/v1/{episode}/editPlans/nope")
    assert plan.status_code == 404


async def test_approving_twice_is_failed_precondition(client, takes: list[Take]):
    _, episode = await create_episode(client, "Approve twice")
    await client.patch(
        f"/v1/{episode}/script", params={"updateMask": "text"}, json={"text": SCRIPT}
    )
    for take in [t for t in takes if t.best]:
        assert (await upload(client, f"/v1/{episode}/takes:upload", take.path)).status_code == 200
    plan = (await client.post(f"/v1/{episode}/editPlans:generate", json={})).json()
    plan = await poll(client, plan["name"], {"PROPOSED", "FAILED"})
    assert (await client.post(f"/v1/{plan['name']}:approve", json={})).status_code == 200
    again = await client.post(f"/v1/{plan['name']}:approve", json={})
    assert again.status_code == 400
    assert again.json()["error"]["status"] == "FAILED_PRECONDITION"


async def test_killed_worker_does_not_lose_the_job(client, platform: Platform, takes, tmp_path):
    """SIGKILL the only render worker mid-job; a new worker finishes the job exactly once."""
    succeeded = await _collect_events(platform.amqp_url, "render.succeeded")
    try:
        _, episode = await create_episode(client, "Crash test")
        await client.patch(
            f"/v1/{episode}/script", params={"updateMask": "text"}, json={"text": SCRIPT}
        )
        for take in takes:
            assert (await upload(client, f"/v1/{episode}/takes:upload", take.path)).is_success
        plan = (await client.post(f"/v1/{episode}/editPlans:generate", json={})).json()
        plan = await poll(client, plan["name"], {"PROPOSED"})
        await client.post(f"/v1/{plan['name']}:approve", json={})
        # The largest preset makes the render long enough to be killed in the middle.
        job = await client.post(
            f"/v1/{episode}/renderJobs",
            json={"editPlan": plan["name"], "preset": "landscape-1080p"},
        )
        name = job.json()["name"]
        await _wait_running(client, name)
        platform.processes["worker-a"].kill(signal.SIGKILL)
        platform.processes["worker-a"].popen.wait()

        platform.start("worker-b", "renderer", role="worker")
        platform.wait_ready("worker-b")
        done = await poll(client, name, {"SUCCEEDED", "FAILED"}, timeout_s=300)
        assert done["state"] == "SUCCEEDED", done
        assert done["attemptCount"] == 2
        reply = await client.get(f"/v1/{name}:download", follow_redirects=True)
        (tmp_path / "out.mp4").write_bytes(reply.content)
        duration = float(ffprobe(tmp_path / "out.mp4")["format"]["duration"])
        assert abs(duration - planned_duration(plan)) <= 0.1
        await asyncio.sleep(1.0)  # let any duplicate event arrive before counting
        assert [e["render_job"] for e in succeeded.events if e.get("render_job") == name] == [name]
    finally:
        await succeeded.close()


async def _wait_running(client: httpx.AsyncClient, name: str) -> None:
    for _ in range(600):
        job = (await client.get(f"/v1/{name}")).json()
        if job["state"] == "RUNNING" and job.get("progressPercent", 0) > 0:
            return
        assert job["state"] in ("QUEUED", "RUNNING"), job
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{name} never started")


class _Events:
    def __init__(self, connection: aio_pika.abc.AbstractRobustConnection) -> None:
        self.connection = connection
        self.events: list[dict] = []

    async def close(self) -> None:
        await self.connection.close()


async def _collect_events(url: str, routing_key: str) -> _Events:
    """An exclusive queue of our own bound to the events exchange, counting deliveries."""
    connection = await aio_pika.connect_robust(url)
    collector = _Events(connection)
    channel = await connection.channel()
    exchange = await channel.get_exchange("editbay.events")
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key)

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            collector.events.append(json.loads(message.body))

    await queue.consume(on_message)
    return collector
