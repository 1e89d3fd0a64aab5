"""Where protocols come from: the built-in ones shipped with the app and the clinic's own.

Clinic-defined protocols are TOML files in ``<user data dir>/nmr-balance/protocols`` (from
platformdirs; e.g. ``~/.local/share/nmr-balance/protocols`` on Linux,
``%LOCALAPPDATA%\\nmr-balance\\protocols`` on Windows). A clinic file with the name of a built-in
protocol replaces it. A broken file never hides the others: :func:`discover` returns it with
its error.
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib

import platformdirs

from nmr_balance.errors import InvalidParameterError, ProtocolError, UnknownProtocolError
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
        raise UnknownProtocolError(name_or_path, [n for n, e in entries.items() if e.protocol])
    if entry.error is not None:
        raise entry.error
    return entry.protocol


@dataclasses.dataclass(frozen=True)
class ProtocolFacts:
    """What a record needs to say about a protocol: its title and kind (``test`` or
    ``training``), objective and body regions, and its levels. Read from the protocol's file."""

    name: str
    title: str
    kind: str
    objective: str = ""
    body_regions: tuple[str, ...] = ("bilateral lower extremities", "trunk")
    summary: str = "none"
    protocol: Protocol | None = None

    @property
    def is_test(self) -> bool:
        return self.kind == "test"

    @classmethod
    def of(cls, p: Protocol) -> ProtocolFacts:
        """The facts of a loaded protocol (a library entry or a file given by path)."""
        return cls(p.name, p.title, p.kind, p.objective, p.body_regions, p.summary, p)


@functools.lru_cache(maxsize=256)
def _facts(name: str, clinic_dir: pathlib.Path | None) -> ProtocolFacts:
    entry = discover(clinic_dir).get(name)
    if entry is None or entry.protocol is None:
        # a trial of a protocol no file describes any more (or an import): said as written
        return ProtocolFacts(name, name.replace("_", " "), "unknown")
    return ProtocolFacts.of(entry.protocol)


def facts(name: str, clinic_dir: pathlib.Path | None = None) -> ProtocolFacts:
    """The facts of protocol ``name`` from the library (built-in and clinic files); a name no
    file describes gets its name as title and kind ``unknown`` (never a guessed kind)."""
    return _facts(name, clinic_dir)


#: Tasks of a trial recorded on its own, without a protocol run (``nmr-balance record``, the
#: console's free trial): the person stands, nothing is shown or scored but the sway.
STANDING_TASKS = ("stand", "single_leg", "pause")


def check_single_trial(name: str, option: str = "protocol") -> None:
    """Refuse to record one trial under the name of a protocol that shows and scores targets
    (``free_targets``, ``los``, ``weight_shift``...): the trial would be stored as that exercise
    with nothing scored. Only its run does that (``nmr-balance run``, the console's Start
    protocol). Names no protocol file describes stay free labels.

    Raises
    ------
    InvalidParameterError
        Naming ``option``, the steps that need a run and the command to use.
    """
    entry = discover().get(name)
    if entry is None or entry.protocol is None:
        return
    tasks = sorted({s.task for s in entry.protocol.steps} - set(STANDING_TASKS))
    if tasks:
        raise InvalidParameterError(
            option,
            name,
            f"a standing protocol (free, mctsib, romberg, single_leg): {name} has "
            f"{', '.join(tasks)} steps, which the protocol engine shows and scores; run it "
            f"(`nmr-balance run {name} --patient CODE`, or Start protocol in the console)",
        )
