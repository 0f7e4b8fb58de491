"""A request id makes a retry return the first result; the same id sent for another parent is a
new request, refused (it must not hand back another show's episode or take)."""

from __future__ import annotations

from grpc import StatusCode as Code

from editbay.catalog.v1 import catalog_service_pb2 as pb


async def test_an_episode_request_id_reused_in_another_show(catalog, expect) -> None:
    await catalog.make_episode("first")
    await catalog.stub.CreateShow(pb.CreateShowRequest(show=pb.Show(display_name="B"), show_id="b"))

    def create(show: str) -> pb.CreateEpisodeRequest:
        return pb.CreateEpisodeRequest(
            parent=f"shows/{show}", episode=pb.Episode(display_name="E"), request_id="ep-r"
        )

    made = await catalog.stub.CreateEpisode(create("first"))
    assert await catalog.stub.CreateEpisode(create("first")) == made
    info = await expect(catalog.stub.CreateEpisode(create("b")), Code.INVALID_ARGUMENT)
    assert (info.reason, info.metadata["field"]) == ("REQUEST_ID_REUSED", "request_id")
    listed = await catalog.stub.ListEpisodes(pb.ListEpisodesRequest(parent="shows/b"))
    assert list(listed.episodes) == []


async def test_a_take_request_id_reused_in_another_episode(catalog, footage, expect) -> None:
    episode = await catalog.make_episode()
    other = await catalog.stub.CreateEpisode(
        pb.CreateEpisodeRequest(
            parent="shows/kitchen", episode=pb.Episode(display_name="Two"), episode_id="two"
        )
    )
    data = footage.path.read_bytes()
    first = await catalog.upload(episode, "S01_T01.mp4", data, request_id="take-r")
    assert first.name.startswith(f"{episode}/takes/")
    info = await expect(
        catalog.upload(other.name, "S01_T01.mp4", data, request_id="take-r"),
        Code.INVALID_ARGUMENT,
    )
    assert (info.reason, info.metadata["field"]) == ("REQUEST_ID_REUSED", "metadata.request_id")
    listed = await catalog.stub.ListTakes(pb.ListTakesRequest(parent=other.name))
    assert list(listed.takes) == []
