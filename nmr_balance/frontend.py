"""Default front-end: which stages turn a sensor's raw stream into the sway stream.

Maps a :class:`~nmr_balance.stream.SensorKind` to a list of stages. Sources that already deliver
a sway stream (``cop``, ``tilt``) pass through. The DSP layer supplies the real stages (COP from
plates and load cells, IMU tilt, resampling, low-pass) as they land.
"""

from __future__ import annotations

from nmr_balance.stages import PassThrough, Stage
from nmr_balance.stream import StreamInfo


def default_stages(info: StreamInfo) -> list[Stage]:
    """The standard live front-end for a stream described by ``info``."""
    return [PassThrough()]
