"""An engine entry whose source unplugs itself: for the device-loss tests.

Run in the spawned engine process (so it must stay importable by name): it registers the
``flaky://`` scheme, a simulated board that goes ``lost`` after ``lose_after`` seconds, stays
silent ``lost_for`` seconds, reports ``reconnecting`` and then streams again, exactly as a
device driver with reconnection reports it; then it runs the real engine.
"""

from __future__ import annotations

import time

from drivers.sim.source import SimSource
from drivers.sim.source import from_url as sim_from_url
from nmr_balance.app import load_providers
from nmr_balance.app.engine_process import run_engine
from nmr_balance.registry import Scheme, parse_url, register_scheme
from nmr_balance.source import Status
from nmr_balance.stream import SampleBlock


class FlakySim(SimSource):
    def __init__(self, url, board, lose_after_s, lost_for_s):
        super().__init__(url, board, realtime=True)
        self.lose_after_s, self.lost_for_s = lose_after_s, lost_for_s
        self._lost_at = None

    def _do_read(self, timeout):
        if self._lost_at is None and self._produced >= self.lose_after_s * self.board.fs:
            self._lost_at = time.monotonic()
            self._set_status(Status.LOST, "USB cable unplugged (simulated)")
        if self._lost_at is not None and self._status is not Status.STREAMING:
            waited = time.monotonic() - self._lost_at
            if waited < self.lost_for_s:
                if waited > self.lost_for_s / 2 and self._status is Status.LOST:
                    self._set_status(Status.RECONNECTING, "trying the port again")
                time.sleep(min(0.05, timeout or 0.05))
                return SampleBlock.empty(self.info.n_channels)
            self._do_start()  # pace from now on
            self._set_status(Status.STREAMING, "device back")
        return super()._do_read(timeout)


def _flaky(parsed):
    p = parsed.params
    lose_after = p.number("lose_after", 1.0)
    lost_for = p.number("lost_for", 1.0)
    p.finish()
    base = sim_from_url(parse_url("sim://?rate=100"))
    return FlakySim(parsed.url, base.board, lose_after, lost_for)


def run_flaky_engine(commands, replies, source_url=None, **options):
    load_providers()
    register_scheme(
        Scheme("flaky", _flaky, "a simulated board that unplugs itself (tests)", "flaky://")
    )
    run_engine(commands, replies, source_url, **options)
