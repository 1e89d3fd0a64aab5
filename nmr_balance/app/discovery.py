"""Connected devices as (label, source URL) pairs for the console's source picker.

Composition root: asks the drivers package what is plugged in (serial ports, balance boards).
Bluetooth scans take seconds, so they are left to ``nmr-balance devices``.
"""

from __future__ import annotations


def discover_sources() -> list[tuple[str, str]]:
    """Serial ports and input balance boards found now (empty when discovery is unavailable)."""
    try:
        from drivers import discovery
    except ImportError:  # drivers without discovery in this build
        return []
    found: list[tuple[str, str]] = []
    for finder, describe in (
        (getattr(discovery, "serial_ports", None), lambda d: f"{d.description} ({d.path})"),
        (getattr(discovery, "input_boards", None), lambda d: f"{d.name} ({d.path})"),
    ):
        if finder is None:
            continue
        try:
            found += [(describe(d), d.url) for d in finder()]
        except Exception:  # one kind of discovery failing must not hide the others
            continue
    return found


__all__ = ["discover_sources"]
