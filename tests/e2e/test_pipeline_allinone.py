"""The same flow in the all-in-one mode: every service in one process on SQLite, the in-process
broker and a local media folder, driven through the gateway over HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from editbay_cli.demo.allinone import all_in_one

from .flow import check_result, run_flow
from .footage import Take


async def test_flow_all_in_one(takes: list[Take], tmp_path: Path):
    async with all_in_one(tmp_path / "data") as platform:
        async with httpx.AsyncClient(base_url=platform.base_url, timeout=60) as client:
            result = await run_flow(client, takes, tmp_path)
            check_result(result, takes, size=(1280, 720))
            for _ in range(60):
                episode = (await client.get(f"/v1/{result.episode['name']}")).json()
                if episode.get("finalVideo"):
                    break
                await asyncio.sleep(0.25)
            assert episode["finalVideo"]["renderJob"] == result.job["name"]
            # The video lives in the local media folder, not on a server.
            assert result.job["output"]["uri"].startswith("file://")
