"""Default front-end: which stages turn a sensor's raw stream into the sway stream.

Maps a :class:`~nmr_balance.stream.SensorKind` to a list of stages (built in
:mod:`nmr_balance.frontend_stages`):

- ``plate``: COP from forces and moments -> low-pass;
- ``cells``: COP from four load cells (calibration, tare, stance detection) -> low-pass;
- ``imu``: tilt from accelerometer + gyroscope -> low-pass;
- ``cop`` / ``tilt``: already sway; low-pass only.

Uneven streams (``geometry["uneven"]``) are first resampled to a fixed rate by window
averaging; streams marked ``geometry["filtered_hz"]`` are not low-passed again. The low-pass is
causal, 4th-order Butterworth at 10 Hz.
"""

from __future__ import annotations

from nmr_balance.frontend_stages import build_stages
from nmr_balance.stages import Stage
from nmr_balance.stream import StreamInfo


def default_stages(info: StreamInfo) -> list[Stage]:
    """The standard live front-end for a stream described by ``info``."""
    return build_stages(info)
