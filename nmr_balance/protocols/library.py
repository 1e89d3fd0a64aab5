"""Where protocols come from: the built-in ones shipped with the app and the clinic's own.

Clinic-defined protocols are TOML files in ``<user data dir>/nmr-balance/protocols`` (from
platformdirs; e.g. ``~/.local/share/nmr-balance/protocols`` on Linux,
``%LOCALAPPDATA%\\nmr-balance\\protocols`` on Windows). A clinic file with the name of a built-in
protocol replaces it. A broken file never hides the others: :func:`discover` returns it with
its error.
"""

from __future__ import annotations

import dataclasses
import pathlib

import platformdirs

from nmr_balance.errors import ProtocolError
from nmr_balance.protocols.schema import Protocol, load_protocol

BUILTIN_DIR = pathlib.Path(__file__).resolve().parent / "builtin"


def user_dir() -> pathlib.Path:
    """Folder of the clinic's own protocol files."""
    return pathlib.Path(platformdirs.user_data_dir("nmr-balance", appauthor=False)) / "protocols"


@dataclasses.dataclass(frozen=True)
class Entry:
    """One protocol file: its origin (``builtin`` or ``clinic``), and the protocol or the error."""

    path: pathlib.Path
    origin: str
    protocol: Protocol | None = None
    error: ProtocolError | None = None


def discover(clinic_dir: pathlib.Path | None = None) -> dict[str, Entry]:
    """Every protocol by name (broken files by file stem, with their error)."""
    found: dict[str, Entry] = {}
    dirs = [(BUILTIN_DIR, "builtin"), (clinic_dir or user_dir(), "clinic")]
    for folder, origin in dirs:
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            try:
                protocol = load_protocol(path)
                found[protocol.name] = Entry(path, origin, protocol)
            except ProtocolError as e:
                found[path.stem] = Entry(path, origin, error=e)
    return found


def find(name_or_path: str, clinic_dir: pathlib.Path | None = None) -> Protocol:
    """A protocol by name, or by the path of a TOML file."""
    path = pathlib.Path(name_or_path)
    if path.suffix == ".toml" or path.is_file():
        return load_protocol(path)
    entries = discover(clinic_dir)
    entry = entries.get(name_or_path)
    if entry is None:
        names = ", ".join(sorted(n for n, e in entries.items() if e.protocol)) or "none"
        raise ProtocolError(name_or_path, "name", f"a known protocol ({names})", name_or_path)
    if entry.error is not None:
        raise entry.error
    return entry.protocol
