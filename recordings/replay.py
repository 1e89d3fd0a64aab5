"""``replay://`` — a recorded trial as a source, streamed through the live pipeline.

The raw stream is replayed, so the same front-end produces the same processed samples (and
metrics) as live. Samples keep their counters, device times and the spacing of their host
times; host times are shifted by one constant so they read as "now" (latency figures stay
meaningful, and anything computed from time differences is unchanged).

Pacing and seeking use the trial's sample clock, ``(counter - first counter) / fs`` (host
arrival times bunch up in USB/BLE packets and would replay jerkily). Seeking
(:meth:`ReplaySource.seek`) makes the counters jump, which the pipeline counts as a gap.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from nmr_balance.errors import InvalidParameterError, StorageError
from nmr_balance.registry import Scheme, SourceURL, register_scheme
from nmr_balance.source import Source
from nmr_balance.stream import SampleBlock, StreamInfo
from recordings import _pg, witmotion_sd
from recordings.store import RAW, Store

USAGE = """\
replay://PATH.db?trial=ID&speed=1&start=0     a trial stored in a station database
replay://PATH.csv   replay://PATH.c3d         a trial file (our export, Santos & Duarte, C3D)
replay://PATH.bin                             a WitMotion SD-card log (28-byte records)
  trial   the trial id (`nmr-balance trials` lists them); databases only
  speed   1 = real time (default), 2 = twice as fast, 0 or max = as fast as it is read
  start   begin this many seconds into the trial (default 0)
  fs      sample rate (Hz) of a CSV file that has no time column
Example: nmr-balance live --source "replay://~/clinic.db?trial=12&speed=4\""""

#: Most samples one read returns when replaying as fast as possible.
MAX_CHUNK = 4096


class _Feed:
    """Chunked access to one stored stream: ``index`` rows (n, first counter) and ``load(i)``."""

    def __init__(self, index: np.ndarray, load):
        self.n = index[:, 0].astype(np.int64)
        self.first_counter = index[:, 1].astype(np.int64)
        self.load = load


class ReplaySource(Source):
    """Source that plays back a stored trial's raw stream.

    Parameters
    ----------
    url : str
    path : Path
        A station database or a trial file.
    trial_id : int, optional
        Required for a database.
    speed : float
        Real time x ``speed``; 0 = as fast as possible.
    start_s : float
        Where to begin, s from the trial's first sample.
    fs : float, optional
        Sample rate for a CSV file without a time column.
    """

    #: Host times are the recorded ones (shifted to now, spaced as recorded): no latency figure.
    host_time_is_receipt = False

    def __init__(
        self,
        url: str,
        path: Path,
        trial_id: int | None = None,
        speed: float = 1.0,
        start_s: float = 0.0,
        fs: float | None = None,
    ):
        super().__init__(url)
        # A station file (Path) or the clinic server's URL (str).
        self.path = path if _pg.is_url(path) else Path(path)
        self.trial_id, self.speed, self.fs = trial_id, speed, fs
        self._store: Store | None = None
        self._feed: _Feed | None = None
        self._seek_to: float | None = start_s
        self._mutex = threading.Lock()
        self._chunk = 0
        self._block: SampleBlock | None = None
        self._pos = 0
        self._origin = 0  # first counter of the trial
        self._play_t0 = 0.0  # monotonic s when playback (re)started
        self._play_rel0 = 0.0  # trial time (s) at that moment
        self._shift_ns = 0

    # --- Source hooks ------------------------------------------------------------------------
    def _do_open(self) -> StreamInfo:
        if _pg.is_url(self.path) or _is_database(self.path):
            info = self._open_database()
        else:
            info = self._open_file()
        if not len(self._feed.n):
            raise InvalidParameterError(
                "trial", self.trial_id, "a trial with samples (this one has none)", self.url
            )
        self._origin = int(self._feed.first_counter[0])
        return info.replace(source=self.url)

    def _open_database(self) -> StreamInfo:
        try:  # never creates or changes anything at a path that is not a station database
            self._store = Store.open(self.path, create=False)
        except StorageError as e:
            raise InvalidParameterError(
                "path",
                str(self.path),
                "a station database (made by `nmr-balance record`) or a trial file "
                f"(.csv, .tsv, .txt, .c3d, or a WitMotion log .bin); {e.message}",
                self.url,
            ) from None
        if self.trial_id is None:
            ids = [t.id for t in self._store.trials()]
            listing = f"this database holds trials {ids[0]}-{ids[-1]}" if ids else "it holds none"
            raise InvalidParameterError(
                "trial",
                "",
                f"trial=ID ({listing}; `nmr-balance trials --db {self.path}` lists them)",
                self.url,
            )
        trial = self._store.trial(self.trial_id)
        index = self._store.chunk_index(self.trial_id, RAW)
        store, tid = self._store, self.trial_id
        self._feed = _Feed(
            index[:, [1, 2]], lambda i: store.read_chunks(tid, RAW, int(index[i, 0]), 1)[0]
        )
        return trial.raw_info

    def _open_file(self) -> StreamInfo:
        from recordings._table import TableOptions
        from recordings.exchange import read_file  # deferred: C3D/CSV readers only when needed

        if self.trial_id is not None:
            raise InvalidParameterError(
                "trial", self.trial_id, "no trial= for a file (it holds one trial)", self.url
            )
        data = read_file(self.path, TableOptions(fs=self.fs))
        raw, size = data.raw, max(1, int(data.raw_info.fs))
        starts = np.arange(0, len(raw), size)
        index = np.column_stack([np.minimum(size, len(raw) - starts), raw.counter[starts]])
        self._feed = _Feed(index.reshape(-1, 2), lambda i: raw.slice(starts[i], starts[i] + size))
        return data.raw_info

    def _do_start(self) -> None:
        with self._mutex:
            if self._seek_to is None:  # resume where we were, pacing from now
                self._seek_to = self.position_s
        self._apply_seek()

    def _do_read(self, timeout: float | None) -> SampleBlock:
        self._apply_seek()
        if self._block is None:
            self._mark_ended("replay finished")
            return SampleBlock.empty(self.info.n_channels)
        if self.speed > 0:
            rel = self._trial_time(self._block.counter[self._pos :])
            now_rel = self._play_rel0 + (time.monotonic() - self._play_t0) * self.speed
            due = int(np.searchsorted(rel, now_rel, side="right"))
            if due == 0:
                wait = (rel[0] - now_rel) / self.speed
                time.sleep(max(0.0, min(wait, timeout if timeout is not None else wait)))
                return SampleBlock.empty(self.info.n_channels)
        else:
            due = min(len(self._block) - self._pos, MAX_CHUNK)
        out = self._block.slice(self._pos, self._pos + due)
        out = SampleBlock(
            out.t_host_ns + self._shift_ns, out.t_device.copy(), out.counter.copy(), out.data.copy()
        )
        self._pos += due
        if self._pos >= len(self._block):
            self._next_chunk()
        return out

    def _do_close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # --- playback position -------------------------------------------------------------------
    def _trial_time(self, counter):
        return (counter - self._origin) / self.info.fs

    @property
    def duration_s(self) -> float:
        """Trial time just after its last sample, s (valid after open)."""
        return float(self._trial_time(self._feed.first_counter[-1] + self._feed.n[-1]))

    @property
    def position_s(self) -> float:
        """Trial time of the next sample to play, s."""
        if self._block is None:
            return self.duration_s if self._feed is not None else 0.0
        return float(self._trial_time(self._block.counter[self._pos]))

    def seek(self, t_s: float) -> None:
        """Continue playing from ``t_s`` seconds into the trial. Thread-safe."""
        if not np.isfinite(t_s) or t_s < 0:
            raise InvalidParameterError("seek", t_s, "a time >= 0 s")
        with self._mutex:
            self._seek_to = float(t_s)

    def _apply_seek(self) -> None:
        with self._mutex:
            target, self._seek_to = self._seek_to, None
        if target is None:
            return
        target_counter = self._origin + int(np.ceil(target * self.info.fs - 1e-9))
        self._chunk = max(
            0, int(np.searchsorted(self._feed.first_counter, target_counter, side="right")) - 1
        )
        self._block = self._feed.load(self._chunk)
        self._pos = int(np.searchsorted(self._block.counter, target_counter, side="left"))
        if self._pos >= len(self._block):
            self._next_chunk()
        self._play_t0, self._play_rel0 = time.monotonic(), target
        if self._block is not None:
            self._play_rel0 = float(self._trial_time(self._block.counter[self._pos]))
            self._shift_ns = time.monotonic_ns() - int(self._block.t_host_ns[self._pos])

    def _next_chunk(self) -> None:
        self._chunk += 1
        self._pos = 0
        self._block = self._feed.load(self._chunk) if self._chunk < len(self._feed.n) else None


def _is_database(path: Path) -> bool:
    # By name only: opening a database file ourselves would drop SQLite's POSIX locks on it.
    return path.suffix.lower() not in (".csv", ".tsv", ".txt", ".c3d", *witmotion_sd.SUFFIXES)


def from_url(parsed: SourceURL) -> ReplaySource:
    p = parsed.params
    speed_text = p.text("speed", "1")
    trial = p.number("trial", None, lo=1, integer=True)
    start = p.number("start", 0.0, lo=0)
    fs = p.number("fs", None, lo=1, hi=10_000)
    p.finish()
    if speed_text == "max":
        speed = 0.0
    else:
        try:
            speed = float(speed_text)
        except ValueError:
            speed = -1.0
        if not 0 <= speed <= 1000:
            raise InvalidParameterError(
                "speed", speed_text, "a number from 0 to 1000, or max", parsed.url
            )
    if _pg.is_url(parsed.location):  # a trial on the clinic's server
        return ReplaySource(parsed.url, parsed.location, trial, speed, start, fs)
    path = Path(parsed.location).expanduser()
    if not parsed.location or not path.exists():
        raise InvalidParameterError(
            "path",
            parsed.location,
            "an existing database or trial file, e.g. replay:///home/me/clinic.db?trial=3",
            parsed.url,
        )
    return ReplaySource(parsed.url, path, trial, speed, start, fs)


SCHEME = Scheme("replay", from_url, "a recorded trial (database, CSV or C3D) played back", USAGE)


def register() -> None:
    register_scheme(SCHEME)
