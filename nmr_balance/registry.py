"""Opening sources by URL: a registry of schemes that drivers and recordings register into.

A source URL is ``scheme://location?key=value&...``::

    sim://?rate=1000&sensor=cells&condition=eyes_closed
    serial:///dev/ttyUSB0?protocol=witmotion&baud=115200
    replay:///path/to/station.db?trial=12&speed=2

The core never imports a driver: the composition root (:mod:`nmr_balance.app`) asks each layer
package to register its schemes, then :func:`create_source` looks them up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, unquote

from nmr_balance.errors import ConfigError, InvalidParameterError, UnknownSchemeError
from nmr_balance.source import Source


@dataclasses.dataclass(frozen=True)
class SourceURL:
    """A parsed source URL. ``location`` is what sits between ``://`` and ``?``."""

    url: str
    scheme: str
    location: str
    params: Params


class Params:
    """Typed, validated access to URL query parameters.

    Each getter records the names it knows; :meth:`finish` then rejects any parameter nobody
    asked for, listing the valid ones, so a typo (``rat=1000``) is an error, not a silent default.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]], where: str):
        self._values: dict[str, str] = {}
        for k, v in pairs:
            if k in self._values:
                raise InvalidParameterError(k, v, "each parameter once", where)
            self._values[k] = v
        self._known: dict[str, str] = {}
        self.where = where

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def _raw(self, name: str, expected: str) -> str | None:
        self._known[name] = expected
        return self._values.get(name)

    def text(
        self, name: str, default: str | None = None, choices: Iterable[str] | None = None
    ) -> str | None:
        choices = list(choices) if choices is not None else None
        expected = "one of " + ", ".join(choices) if choices else "text"
        raw = self._raw(name, expected)
        if raw is None:
            return default
        if choices is not None and raw not in choices:
            raise InvalidParameterError(name, raw, expected, self.where)
        return raw

    def number(
        self,
        name: str,
        default: float | None = None,
        lo: float = float("-inf"),
        hi: float = float("inf"),
        integer: bool = False,
    ) -> float | int | None:
        kind = "a whole number" if integer else "a number"
        expected = (
            f"{kind} from {lo:.12g} to {hi:.12g}"
            if lo > float("-inf") or hi < float("inf")
            else kind
        )
        raw = self._raw(name, expected)
        if raw is None:
            return default
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            raise InvalidParameterError(name, raw, expected, self.where) from None
        if not (lo <= value <= hi):
            raise InvalidParameterError(name, raw, expected, self.where)
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self._raw(name, "true or false (1/0, yes/no)")
        if raw is None:
            return default
        low = raw.lower()
        if low in ("1", "true", "yes", "on", ""):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise InvalidParameterError(name, raw, "true or false (1/0, yes/no)", self.where)

    def finish(self) -> None:
        """Raise for parameters that no getter asked for."""
        unknown = sorted(set(self._values) - set(self._known))
        if unknown:
            valid = ", ".join(f"{k} ({v})" for k, v in sorted(self._known.items())) or "none"
            raise InvalidParameterError(
                unknown[0],
                self._values[unknown[0]],
                f"a known parameter; valid: {valid}",
                self.where,
            )


def parse_url(url: str) -> SourceURL:
    """Split a source URL into scheme, location and :class:`Params`."""
    if "://" not in url:
        raise ConfigError(
            f"'{url}' is not a source URL",
            "Write it as scheme://location?key=value, e.g. sim://?rate=100 or "
            "serial:///dev/ttyUSB0?protocol=nmr",
        )
    scheme, rest = url.split("://", 1)
    location, _, query = rest.partition("?")
    params = Params(parse_qsl(query, keep_blank_values=True), where=url)
    return SourceURL(url, scheme.lower(), unquote(location), params)


@dataclasses.dataclass(frozen=True)
class Scheme:
    """A registered source type.

    Attributes
    ----------
    name : str
        The URL scheme, e.g. ``"sim"``.
    factory : callable
        ``factory(parsed: SourceURL) -> Source``; must call ``parsed.params.finish()``.
    summary : str
        One line for ``nmr-balance sources``.
    usage : str
        The parameters and an example, for ``--help`` texts.
    """

    name: str
    factory: Callable[[SourceURL], Source]
    summary: str
    usage: str = ""


_SCHEMES: dict[str, Scheme] = {}


def register_scheme(scheme: Scheme) -> None:
    """Make ``scheme://`` URLs openable. Registering the same name again replaces it."""
    _SCHEMES[scheme.name] = scheme


def schemes() -> list[Scheme]:
    return [_SCHEMES[k] for k in sorted(_SCHEMES)]


def create_source(url: str) -> Source:
    """Build the (unopened) source for ``url``; raise a clear error for unknown schemes/params."""
    parsed = parse_url(url)
    scheme = _SCHEMES.get(parsed.scheme)
    if scheme is None:
        raise UnknownSchemeError(url, parsed.scheme, list(_SCHEMES))
    return scheme.factory(parsed)
