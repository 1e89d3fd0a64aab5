"""The exception hierarchy of nmr-balance.

One root (:class:`NmrBalanceError`); typed subclasses carry the fields a caller needs to react
(``DeviceNotFoundError.address``, ``ConnectionLostError.reason``). Every message says what was
expected, what was found and what to do next. Core code raises; the UI shows a dialog and keeps
running; the CLI prints the message (never a traceback) and exits non-zero.
"""

from __future__ import annotations


class NmrBalanceError(Exception):
    """Root of every error nmr-balance raises on purpose.

    Parameters
    ----------
    message : str
        What went wrong, in the user's words.
    hint : str, optional
        What to do next; appended to ``str(error)``.
    """

    def __init__(self, message: str, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message}. {hint}")


# --- configuration -----------------------------------------------------------------------------
class ConfigError(NmrBalanceError):
    """A setting, URL or protocol definition is not valid."""


class UnknownSchemeError(ConfigError):
    """A source URL names a scheme nobody registered."""

    def __init__(self, url: str, scheme: str, known: list[str]):
        self.url, self.scheme, self.known = url, scheme, sorted(known)
        choices = ", ".join(f"{k}://" for k in self.known) or "none registered"
        super().__init__(
            f"unknown source '{scheme}://' in '{url}'",
            f"Valid sources: {choices}. `nmr-balance sources` explains each",
        )


class InvalidParameterError(ConfigError):
    """A parameter of a source URL or a setting has a bad name or value."""

    def __init__(self, name: str, value: object, expected: str, where: str = ""):
        self.name, self.value, self.expected, self.where = name, value, expected, where
        at = f" in {where}" if where else ""
        super().__init__(f"bad parameter '{name}={value}'{at}: expected {expected}")


class UnknownProtocolError(ConfigError):
    """No protocol by that name: says the closest known names and where the list is."""

    def __init__(self, name: str, known: list[str]):
        import difflib

        self.name, self.known = name, sorted(known)
        self.suggestions = difflib.get_close_matches(name, self.known, n=3, cutoff=0.6)
        guess = f" (did you mean {' or '.join(self.suggestions)}?)" if self.suggestions else ""
        super().__init__(
            f"no protocol named '{name}'{guess}",
            f"Known protocols: {', '.join(self.known) or 'none'} (or give the path of a .toml "
            "file); `nmr-balance protocols` lists them with what each one does",
        )


class ProtocolError(ConfigError):
    """A protocol definition (TOML) is not valid: says which file, step and field, and why."""

    def __init__(
        self, file: str, field: str, expected: str, found: object, step: int | None = None
    ):
        self.file, self.field, self.expected, self.found, self.step = (
            file,
            field,
            expected,
            found,
            step,
        )
        at = f"step {step}, " if step is not None else ""
        super().__init__(
            f"{file}: {at}field '{field}': expected {expected}, found {found!r}",
            "Fix the protocol file; `nmr-balance protocols` lists the valid ones",
        )


# --- the engine process -----------------------------------------------------------------------
class EngineStateError(NmrBalanceError):
    """The engine was asked something its state does not allow (a trial while one runs, no
    source connected, a message it does not know, the engine not running)."""


# --- sources and devices -----------------------------------------------------------------------
class SourceError(NmrBalanceError):
    """A sensor source could not be opened or stopped delivering."""


class SourceStateError(SourceError):
    """A source method was called in a state that does not allow it (e.g. read before start)."""

    def __init__(self, action: str, state: str, needed: str):
        self.action, self.state, self.needed = action, state, needed
        super().__init__(f"cannot {action} a source that is {state}", f"Call {needed} first")


class DeviceNotFoundError(SourceError):
    """The device at ``address`` (port path, BLE address or name) is not there."""

    def __init__(self, address: str, hint: str | None = None):
        self.address = address
        super().__init__(
            f"no device at {address}",
            hint
            or "Is it plugged in and switched on? `nmr-balance devices` lists what is connected",
        )


class DeviceBusyError(SourceError):
    """Another program holds the device."""

    def __init__(self, address: str, hint: str | None = None):
        self.address = address
        super().__init__(
            f"{address} is in use by another program",
            hint or "Close the other program (or the other nmr-balance window) and try again",
        )


class DevicePermissionError(SourceError):
    """The operating system refused access to the device."""

    def __init__(self, address: str, hint: str | None = None):
        self.address = address
        super().__init__(f"permission denied on {address}", hint)


class NoDataError(SourceError):
    """The device is open but no valid frame arrived in time (wrong baud or protocol?)."""

    def __init__(self, address: str, seconds: float, hint: str | None = None):
        self.address, self.seconds = address, seconds
        super().__init__(
            f"no valid data from {address} in {seconds:g} s",
            hint or "Check the protocol and baud rate in the URL, and that the device is streaming",
        )


class ConnectionLostError(SourceError):
    """A streaming device went away (unplugged, out of range, switched off)."""

    def __init__(self, address: str, reason: str):
        self.address, self.reason = address, reason
        super().__init__(f"lost connection to {address}: {reason}")


class BluetoothUnavailableError(SourceError):
    """This machine has no usable Bluetooth stack or adapter."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"Bluetooth is not available on this machine ({reason})")


# --- data and storage --------------------------------------------------------------------------
class DataFormatError(NmrBalanceError):
    """A file or byte stream is not in the expected format (corrupt, truncated, hostile)."""

    def __init__(self, what: str, problem: str, hint: str | None = None):
        self.what, self.problem = what, problem
        super().__init__(f"{what}: {problem}", hint)


class StorageError(NmrBalanceError):
    """The recordings store cannot be read or written."""


class DiskFullError(StorageError):
    """The disk filled up while recording; what was committed before is intact."""

    def __init__(self, path: str, hint: str | None = None):
        self.path = path
        super().__init__(
            f"the disk holding {path} is full; recording stopped, everything committed is kept",
            hint or "Free some space (or record to another disk with --db) and start a new trial",
        )


class DatabaseUnreachableError(StorageError):
    """The clinic's database server cannot be reached (down, restarting, network cut)."""

    def __init__(self, url: str, reason: str, hint: str | None = None):
        self.url, self.reason = url, reason
        super().__init__(
            f"cannot reach the database server {url}: {reason}",
            hint
            or "Is the clinic's database server running and reachable from this station? Record "
            "into this station's own database (--db PATH) and `nmr-balance push` the trials later",
        )


class CorruptDatabaseError(StorageError):
    """A file is not an nmr-balance database, or is damaged; it is never overwritten."""

    def __init__(self, path: str, problem: str, hint: str | None = None):
        self.path, self.problem = path, problem
        super().__init__(
            f"{path} is not a usable nmr-balance database ({problem})",
            hint or "Pick another file with --db; this one is left untouched",
        )


# --- the signed record -------------------------------------------------------------------------
class SigningError(NmrBalanceError):
    """A session cannot be signed (yet), or an addendum cannot be added: the message says why."""


class SessionSignedError(SigningError):
    """A signed session is a fixed document: trials, notes and fields cannot change any more.

    Carries ``session_id``, ``signed_by`` and ``signed_at`` (ISO 8601 UTC). Later changes go in
    an addendum, which the message shows how to add.
    """

    def __init__(self, session_id: int, signed_by: str, signed_at: str):
        from nmr_balance.record import utc_minute

        self.session_id, self.signed_by, self.signed_at = session_id, signed_by, signed_at
        super().__init__(
            f"session {session_id} was signed by {signed_by} at {utc_minute(signed_at)}: "
            "its record can no longer change; add an addendum: "
            f'nmr-balance addendum --session {session_id} --by NAME --text "..."'
        )
