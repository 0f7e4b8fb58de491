"""Still frames, contact sheets and low-resolution proxies of (already validated) media.

Pictures come out as FFmpeg shows them: rotated upright, square pixels.
"""

from __future__ import annotations

from pathlib import Path

from editbay_common.media.probe import MediaInfo, input_args, probe
from editbay_common.media.process import ffmpeg_base_args, run

_TIMEOUT_S = 300.0
_JPEG = ["-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p", "-f", "mjpeg"]


async def thumbnail(path: Path, at_s: float, dest: Path, *, width: int = 320) -> Path:
    """A JPEG of the frame at ``at_s`` (clamped into the video), ``width`` pixels wide."""
    info = await _video_info(path)
    at_s = _clamp(at_s, info)
    args = [
        *ffmpeg_base_args(),
        "-ss", f"{at_s:.3f}", *input_args(Path(path), demuxer=info.demuxer),
        "-map", "0:v:0", "-frames:v", "1",
        "-vf", f"scale={_even(width)}:-2,setsar=1",
        *_JPEG, str(dest),
    ]  # fmt: skip
    await run(args, timeout=_TIMEOUT_S)
    return Path(dest)


async def contact_sheet(
    path: Path, dest: Path, *, columns: int = 4, rows: int = 3, width: int = 1280
) -> Path:
    """A JPEG grid of ``columns`` x ``rows`` frames spread evenly over the video.

    Each tile is ``width // columns`` wide and keeps the video's shape (letterboxed if needed).
    """
    info = await _video_info(path)
    count = columns * rows
    tile_w, tile_h = _tile_size(info, columns, width)
    args = [*ffmpeg_base_args()]
    for i in range(count):
        at_s = _clamp((i + 0.5) * info.duration_s / count, info)
        args += ["-ss", f"{at_s:.3f}", *input_args(Path(path), demuxer=info.demuxer)]
    chains = [
        f"[{i}:v:0]{_tile_filter(tile_w, tile_h)},trim=end_frame=1,setpts=PTS-STARTPTS[t{i}]"
        for i in range(count)
    ]
    tiles = "".join(f"[t{i}]" for i in range(count))
    graph = ";".join(chains) + f";{tiles}concat=n={count}:v=1:a=0,tile={columns}x{rows}[sheet]"
    args += ["-filter_complex", graph, "-map", "[sheet]", "-frames:v", "1", *_JPEG, str(dest)]
    await run(args, timeout=_TIMEOUT_S)
    return Path(dest)


async def make_proxy(path: Path, dest: Path, *, height: int = 360) -> Path:
    """A small H.264/AAC MP4 for previews: ``height`` lines (never upscaled), faststart,
    a keyframe every second so players can scrub it."""
    info = await probe(Path(path))
    args = [
        *ffmpeg_base_args(), *input_args(Path(path), demuxer=info.demuxer),
        "-map", "0:v:0", "-vf", _proxy_filter(height), *_proxy_output(dest),
    ]  # fmt: skip
    await run(args, timeout=max(_TIMEOUT_S, info.duration_s * 2))
    return Path(dest)


async def make_previews(
    path: Path, proxy: Path, sheet: Path, *, height: int = 360, columns: int = 4, rows: int = 3,
    width: int = 1280,
) -> tuple[Path, Path]:  # fmt: skip
    """The proxy of ``make_proxy`` and a contact sheet, from one decode of the video.

    The proxy reads every frame anyway, so the sheet's frames are picked from the same decoded
    stream (the first frame at or after the middle of each tile's share of the video, where
    ``contact_sheet`` seeks to) rather than by seeking again: at ingest the sheet then costs
    next to nothing, where seeks in camera files with keyframes seconds apart decode several
    seconds of video for each tile.
    """
    info = await _video_info(path)
    count = columns * rows
    tile_w, tile_h = _tile_size(info, columns, width)
    step_s = max(info.duration_s, 0.001) / count
    graph = (
        f"[0:v:0]split=2[p][s];[p]{_proxy_filter(height)}[proxy];"
        # the first frame at or after each tile's moment, as a seek there would show
        f"[s]select='gte(t-{info.start_time_s:.6f},{step_s / 2:.6f}+{step_s:.6f}*selected_n)',"
        f"{_tile_filter(tile_w, tile_h)},tile={columns}x{rows}[sheet]"
    )
    args = [
        *ffmpeg_base_args(), *input_args(Path(path), demuxer=info.demuxer),
        "-filter_complex", graph,
        "-map", "[proxy]", *_proxy_output(proxy),
        "-map", "[sheet]", "-frames:v", "1", *_JPEG, str(sheet),
    ]  # fmt: skip
    await run(args, timeout=max(_TIMEOUT_S, info.duration_s * 2))
    return Path(proxy), Path(sheet)


def _proxy_filter(height: int) -> str:
    return f"scale=-2:'min({_even(height)},ih)':flags=bicubic,setsar=1"


def _proxy_output(dest: Path) -> list[str]:
    """The proxy's streams: its picture (mapped by the caller), the first audio if any."""
    return [
        "-map", "0:a:0?",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "28", "-pix_fmt", "yuv420p",
        "-force_key_frames", "expr:gte(t,n_forced*1)",
        "-c:a", "aac", "-b:a", "96k",
        "-movflags", "+faststart", "-f", "mp4", str(dest),
    ]  # fmt: skip


def _tile_size(info: MediaInfo, columns: int, width: int) -> tuple[int, int]:
    """Tiles ``width // columns`` wide, as tall as the video's shape makes them."""
    tile_w = _even(width // columns)
    display_w, display_h = info.video.display_size if info.video else (16, 9)
    return tile_w, _even(tile_w * display_h / display_w)


def _tile_filter(tile_w: int, tile_h: int) -> str:
    """One tile: the picture fitted in, letterboxed where its shape differs."""
    return (
        f"scale={tile_w}:{tile_h}:force_original_aspect_ratio=decrease,"
        f"pad={tile_w}:{tile_h}:(ow-iw)/2:(oh-ih)/2,setsar=1"
    )


async def _video_info(path: Path) -> MediaInfo:
    info = await probe(Path(path))
    if info.video is None:
        raise ValueError("the file has no video stream")
    return info


def _clamp(at_s: float, info: MediaInfo) -> float:
    """Keep a seek inside the video: a frame or so before its end."""
    frame_s = 1.0 / info.video.fps if info.video and info.video.fps else 0.04
    return max(0.0, min(at_s, info.duration_s - 2 * frame_s))


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)
