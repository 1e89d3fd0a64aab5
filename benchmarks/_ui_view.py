"""The dashboard's live view (Qt offscreen) drawing a running pipeline at 60 Hz, for the soak.

As in the app, the view runs in its own process and reads the pipeline's processed ring through
shared memory (the console window does the same with the engine process's ring): the soak's
pipeline is made with ``shared=True`` and :func:`run_ui_view` starts
``python -m benchmarks._ui_view RING INFO_JSON SECONDS``, which pulls and renders every 16 ms.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

FRAME_MS = 16


def run_ui_view(pipeline, seconds: float) -> dict:
    """Draw ``pipeline`` (shared rings) in another process for ``seconds``; return its figures."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks._ui_view",
            pipeline.processed.name,
            json.dumps(pipeline.info.to_dict()),
            f"{seconds:g}",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    lines = out.stdout.strip().splitlines()
    if out.returncode or not lines:
        raise RuntimeError(f"the ui view process failed: {out.stderr[-2000:]}")
    return json.loads(lines[-1])


def _draw(ring_name: str, info_json: str, seconds: float) -> dict:
    from PySide6 import QtCore

    from nmr_balance.ring import RingBuffer
    from nmr_balance.stream import StreamInfo
    from ui.dashboard import application
    from ui.live_feed import LiveFeed
    from ui.live_view import LiveView

    app = application()
    info = StreamInfo.from_dict(json.loads(info_json))
    feed = LiveFeed(RingBuffer.attach(ring_name), info, history_s=30.0)
    view = LiveView()
    view.set_stream(info)
    view.resize(1280, 800)
    view.show()
    frames = 0

    def frame() -> None:
        nonlocal frames
        feed.pull()
        view.render(feed)
        frames += 1

    timer = QtCore.QTimer(interval=FRAME_MS)
    timer.setTimerType(QtCore.Qt.PreciseTimer)
    timer.timeout.connect(frame)
    timer.start()
    QtCore.QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    timer.stop()
    cost = view.frame_cost()
    view.close()
    return {
        "frames": frames,
        "feed_missed": feed.missed,
        "samples_drawn": feed.total,
        "frame_cost_ms": list(cost),
    }


if __name__ == "__main__":
    print(json.dumps(_draw(sys.argv[1], sys.argv[2], float(sys.argv[3]))), flush=True)
