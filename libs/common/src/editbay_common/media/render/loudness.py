"""Linear loudness normalisation: measure the programme once, then apply one static gain.

FFmpeg's ``loudnorm`` in single-pass (dynamic) mode upsamples to 192 kHz and rides the gain, which
costs about 1.5 s of a core per 30 s of audio and changes the programme's dynamics. Broadcasters'
"linear" mode does what we need for less: an audio-only pre-pass measures the integrated loudness
and true peak (``ebur128``, EBU R128 / ITU-R BS.1770), and the encode applies one ``volume`` gain
that lands the integrated loudness on target. Only when that gain would push the peaks over the
limiter's threshold (the true-peak ceiling less a margin for inter-sample peaks and the AAC
encoder's overshoot) does a look-ahead limiter (``alimiter``) catch them; the limiter takes some
loudness away, so then a second measuring pass (with the gain and the limiter) corrects the gain.
Sample peaks are measured (``alimiter`` limits sample peaks too): the 4x oversampling of a true-peak
meter would cost more than the rest of the measuring pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from editbay_common.media import process

TRUE_PEAK_CEILING_DBTP = -1.5
# ebur128 reports -70 LUFS when no 400 ms block passes the absolute gate (silence): no gain then.
SILENCE_LUFS = -70.0
# A nearly silent programme would otherwise be amplified into noise.
MAX_GAIN_DB = 30.0
# alimiter works on sample peaks; keep them under the true-peak ceiling by a margin for
# inter-sample peaks and AAC overshoot.
LIMITER_MARGIN_DB = 1.0
LIMIT_DBFS = TRUE_PEAK_CEILING_DBTP - LIMITER_MARGIN_DB

# The filter that measures, as the last audio filter of a measuring pass.
MEASURE_FILTER = "ebur128=peak=sample:framelog=verbose"

_INTEGRATED = re.compile(r"Integrated loudness:\s*\n\s*I:\s*(-?[\d.]+|-inf) LUFS")
_PEAK = re.compile(r"(?:Sample|True) peak:\s*\n\s*Peak:\s*(-?[\d.]+|-inf) dBFS")


class LoudnessMeasurementError(RuntimeError):
    """The measuring pass did not report a loudness summary."""


@dataclass(frozen=True)
class Loudness:
    """What ``ebur128`` measured over a whole programme."""

    integrated_lufs: float
    peak_dbfs: float  # sample peak


@dataclass(frozen=True)
class Gain:
    """The static correction: ``gain_db`` for everything, a limiter at ``limit_dbfs`` if set."""

    gain_db: float
    limit_dbfs: float | None = None

    def filters(self) -> list[tuple[str, dict[str, str]]]:
        """``(filter, options)`` pairs to append to the audio graph (none for no change)."""
        chain = []
        if abs(self.gain_db) >= 0.0005:
            chain.append(("volume", {"volume": f"{self.gain_db:.3f}dB"}))
        if self.limit_dbfs is not None:
            limit = 10 ** (self.limit_dbfs / 20)
            # latency=1 compensates the look-ahead delay (A/V sync); level=0: no auto make-up.
            chain.append(("alimiter", {"limit": f"{limit:.6f}", "attack": "5", "release": "50",
                                       "level": "0", "latency": "1"}))  # fmt: skip
        return chain

    def filter_string(self) -> str:
        """The same chain as an ``-af`` string (``anull`` for no change)."""
        return (
            ",".join(
                name + "=" + ":".join(f"{k}={v}" for k, v in opts.items())
                for name, opts in self.filters()
            )
            or "anull"
        )


def parse_summary(stderr: str) -> Loudness:
    """Read the summary ``ebur128`` logs at the end of a pass (the last one, if several)."""
    integrated = _INTEGRATED.findall(stderr)
    peak = _PEAK.findall(stderr)
    if not integrated:
        raise LoudnessMeasurementError("no ebur128 summary in FFmpeg's log")
    return Loudness(_db(integrated[-1]), _db(peak[-1]) if peak else -math.inf)


def _db(text: str) -> float:
    return -math.inf if text == "-inf" else float(text)


def plan_gain(measured: Loudness, target_lufs: float, limit_dbfs: float = LIMIT_DBFS) -> Gain:
    """The gain that brings ``measured`` to ``target_lufs``, with a limiter only if needed."""
    if measured.integrated_lufs <= SILENCE_LUFS:
        return Gain(0.0)
    gain = min(target_lufs - measured.integrated_lufs, MAX_GAIN_DB)
    if measured.peak_dbfs + gain <= limit_dbfs:
        return Gain(gain)
    return Gain(gain, limit_dbfs=limit_dbfs)


def refine_gain(gain: Gain, limited: Loudness, target_lufs: float) -> Gain:
    """Make up for the loudness the limiter took away (``limited`` measured with ``gain``)."""
    if limited.integrated_lufs <= SILENCE_LUFS:
        return gain
    more = min(gain.gain_db + target_lufs - limited.integrated_lufs, MAX_GAIN_DB)
    return Gain(more, gain.limit_dbfs)


async def normalising_gain(
    measure_with: Callable[[Gain | None], Awaitable[Loudness]], target_lufs: float
) -> Gain:
    """The gain for a programme: ``measure_with(gain)`` runs a measuring pass, the gain applied
    before the meter. One pass, or two when the limiter is needed."""
    gain = plan_gain(await measure_with(None), target_lufs)
    if gain.limit_dbfs is None:
        return gain
    return refine_gain(gain, await measure_with(gain), target_lufs)


def measuring_args(args: Sequence[str]) -> list[str]:
    """FFmpeg's summary is logged at info level: raise the log level of a measuring pass."""
    out = list(args)
    for i in range(len(out) - 1):
        if out[i] == "-loglevel":
            out[i + 1] = "info"
    return [*out[:1], "-nostats", *out[1:]]


async def measure(args: Sequence[str], timeout_s: float | None = None) -> Loudness:
    """Run a measuring pass (its audio graph ends in ``MEASURE_FILTER``) and read the result."""
    result = await process.run(measuring_args(args), timeout=timeout_s)
    return parse_summary(result.stderr.decode("utf-8", "replace"))
