"""The front-end: the stages that turn a sensor's raw stream into the sway stream.

- :mod:`.stage`: the :class:`~nmr_balance.frontend.stage.Stage` interface and how a chain of
  stages is configured and run (light: no DSP import).
- :mod:`.sensors`: the sensor stages wrapping the DSP kernels, and
  :func:`~nmr_balance.frontend.sensors.default_stages`, which maps a
  :class:`~nmr_balance.stream.SensorKind` to its chain:

  - ``plate``: COP from forces and moments -> low-pass;
  - ``cells``: COP from four load cells (calibration, tare, stance detection) -> low-pass;
  - ``imu``: tilt from accelerometer + gyroscope -> low-pass;
  - ``cop`` / ``tilt``: already sway; low-pass only.

Uneven streams (``geometry["uneven"]``) are first resampled to a fixed rate by window
averaging; streams marked ``geometry["filtered_hz"]`` are not low-passed again. The low-pass is
causal, 4th-order Butterworth at 10 Hz.
"""
