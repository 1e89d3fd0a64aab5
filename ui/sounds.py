"""Cue sounds for the patient: a trial starts, a trial stops, a target is hit.

An eyes-closed patient needs to hear when a trial starts and ends. The three tones are
distinct in pitch and contour (rising = start, falling = stop, one short high note = hit),
generated here as WAV files (NumPy; no sound file ships) and played with QtMultimedia's
``QSoundEffect`` (low latency, made for short cues). QtMultimedia is in PySide6-Addons, an
optional extra (``pip install nmr-balance[sound]``): without it, or on a station with no audio
output, :meth:`Sounds.play` returns False and the caller shows a visual flash instead.
"""

from __future__ import annotations

import functools
import importlib.util
import pathlib
import tempfile
import wave

import numpy as np
from PySide6 import QtCore

#: Sample rate of the generated tones, Hz.
RATE_HZ = 44100
#: name -> ((frequency Hz, seconds), ...): the notes of each cue, played one after another.
TONES = {
    "start": ((660.0, 0.12), (880.0, 0.22)),  # rising: "go"
    "stop": ((880.0, 0.12), (523.0, 0.30)),  # falling: "done"
    "hit": ((1320.0, 0.09),),  # short and high: "got it"
}


def tone(notes: tuple[tuple[float, float], ...], rate: int = RATE_HZ) -> np.ndarray:
    """The samples of ``notes`` (int16, mono), each note with 10 ms fade-in/out (no clicks)."""
    parts = []
    for freq, seconds in notes:
        t = np.arange(int(seconds * rate)) / rate
        ramp = np.minimum(1.0, np.minimum(t, seconds - t) / 0.01)
        parts.append(0.5 * np.sin(2 * np.pi * freq * t) * ramp)
    return (np.concatenate(parts) * 32767).astype(np.int16)


@functools.lru_cache(maxsize=1)
def tone_files() -> dict[str, pathlib.Path]:
    """Write the cue tones as WAV files (once per process, in a private temp folder)."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="nmr-balance-sounds-"))
    paths = {}
    for name, notes in TONES.items():
        path = folder / f"{name}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE_HZ)
            w.writeframes(tone(notes).tobytes())
        paths[name] = path
    return paths


#: Why QtMultimedia could not be imported (set by :func:`_multimedia`).
_import_error = ""


def _multimedia():
    """QtMultimedia, or None when PySide6-Addons is not installed or cannot load (e.g. no
    ``libpulse`` on Linux); :data:`_import_error` then says which."""
    global _import_error
    if importlib.util.find_spec("PySide6.QtMultimedia") is None:
        _import_error = "no sound module (install the 'sound' extra: PySide6-Addons)"
        return None
    try:
        from PySide6 import QtMultimedia
    except ImportError as e:  # installed, but a system library is missing
        _import_error = f"the sound module cannot load ({e})"
        return None
    return QtMultimedia


class Sounds(QtCore.QObject):
    """The three cue sounds; :attr:`available` says whether they can be heard here.

    Attributes
    ----------
    available : bool
        QtMultimedia is installed and the system has an audio output.
    why_silent : str
        When not available: why (for the console).
    """

    def __init__(self, parent=None, multimedia=...):
        """``multimedia``: the QtMultimedia module to play with (default: imported if
        installed); None = none, as on a station without the ``sound`` extra."""
        super().__init__(parent)
        self._effects = {}
        mm = _multimedia() if multimedia is ... else multimedia
        if mm is None:
            self.available = False
            self.why_silent = _import_error or "no sound module (install the 'sound' extra)"
            return
        if not mm.QMediaDevices.audioOutputs():
            self.available = False
            self.why_silent = "no audio output on this computer"
            return
        for name, path in tone_files().items():
            effect = mm.QSoundEffect(self)
            effect.setSource(QtCore.QUrl.fromLocalFile(str(path)))
            effect.setVolume(0.8)
            self._effects[name] = effect
        self.available, self.why_silent = True, ""

    def play(self, name: str) -> bool:
        """Play cue ``name`` (``"start"``, ``"stop"``, ``"hit"``); False when it cannot be heard."""
        if name not in TONES:
            raise ValueError(f"no sound {name!r}; known: {', '.join(TONES)}")
        if not self.available:
            return False
        self._effects[name].play()
        return True


__all__ = ["TONES", "Sounds", "tone", "tone_files"]
