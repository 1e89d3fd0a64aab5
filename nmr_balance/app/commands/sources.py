"""``nmr-balance sources``: every kind of source URL, with its parameters."""

from __future__ import annotations

NAME = "sources"
HELP = "list the kinds of source URL (sim://, serial://, ble://, replay://...) with examples"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    from nmr_balance.app import load_providers
    from nmr_balance.registry import schemes

    load_providers()
    for scheme in schemes():
        print(f"{scheme.name}://  {scheme.summary}")
        if scheme.usage:
            print("\n".join("    " + line for line in scheme.usage.splitlines()))
        print()
    return 0
