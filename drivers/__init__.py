"""Drivers: transports (serial, BLE, evdev, simulator), decoders and device discovery."""


def register_sources() -> None:
    """Register the URL schemes this package provides (called by nmr_balance.app)."""
    from drivers.sim.source import SCHEME as SIM
    from drivers.urls import SCHEMES
    from nmr_balance.registry import register_scheme

    register_scheme(SIM)
    for scheme in SCHEMES:
        register_scheme(scheme)
