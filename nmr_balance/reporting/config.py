"""The report settings of a station: clinic header and billing rule, from the station TOML file.

The station config (``station.toml`` in the user config folder, or ``--config PATH``) may hold
other sections for other parts of the app; reports read only these two::

    [clinic]
    name = "Riverside Physical Therapy"
    address = "12 Main Street, Springfield"
    phone = "+1 555 0100"
    logo = "/path/to/logo.png"      # PNG or JPEG; relative paths are relative to this file
    provider_label = "Therapist"     # e.g. "Physical therapist"

    [billing]
    units_rule = "cms_8_minute"      # or "ama_midpoint" (see nmr_balance.reporting.billing)
    count_pauses_as_instruction = false  # true: the time between trials (rests, countdowns,
                                     # set-up) counts as instruction when none is entered
    max_pause_as_instruction_min = 3 # ...each pause counted up to this many minutes

Every key is optional; a missing file gives working defaults.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import platformdirs

from nmr_balance.errors import ConfigError, InvalidParameterError
from nmr_balance.reporting.billing import units_rule
from nmr_balance.reporting.model import ClinicInfo

CONFIG_NAME = "station.toml"


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir("nmr-balance", appauthor=False)) / CONFIG_NAME


@dataclasses.dataclass(frozen=True)
class ReportConfig:
    clinic: ClinicInfo = dataclasses.field(default_factory=ClinicInfo)
    units_rule: str = "cms_8_minute"
    max_gap_instruction_s: float = 180.0
    #: Rests and countdowns between trials are not instruction unless the clinic says so.
    count_pauses: bool = False


def _section(data: dict[str, Any], name: str, keys: set[str], path: Path) -> dict[str, Any]:
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [{name}] must be a table", f"Write it as [{name}] key = value")
    unknown = set(section) - keys
    if unknown:
        first = min(unknown)
        raise InvalidParameterError(
            first, section[first], "one of " + ", ".join(sorted(keys)), f"[{name}] in {path}"
        )
    return section


def load_report_config(path: str | Path | None = None) -> ReportConfig:
    """Read ``path`` (default: :func:`default_config_path`, if it exists) into a ReportConfig.

    Raises :class:`ConfigError` for a file that is not valid TOML or a value of the wrong kind;
    a ``path`` given explicitly must exist.
    """
    explicit = path is not None
    path = Path(path).expanduser() if explicit else default_config_path()
    if not path.exists():
        if explicit:
            raise ConfigError(
                f"no station config at {path}",
                "Check the path, or leave --config out to use the defaults",
            )
        return ReportConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(
            f"cannot read the station config {path}: {e}",
            'Fix the file (it is TOML: key = "value" lines under [sections])',
        ) from e
    clinic = _section(data, "clinic", {"name", "address", "phone", "logo", "provider_label"}, path)
    billing = _section(
        data,
        "billing",
        {"units_rule", "max_pause_as_instruction_min", "count_pauses_as_instruction"},
        path,
    )
    count_pauses = billing.get("count_pauses_as_instruction", False)
    if not isinstance(count_pauses, bool):
        raise InvalidParameterError(
            "count_pauses_as_instruction", count_pauses, "true or false", f"[billing] in {path}"
        )
    for key, value in clinic.items():
        if not isinstance(value, str):
            raise InvalidParameterError(key, value, "text in quotes", f"[clinic] in {path}")
    logo = clinic.get("logo", "")
    if logo and not Path(logo).expanduser().is_absolute():
        logo = str(path.parent / logo)
    rule = units_rule(billing.get("units_rule")).name
    pause_min = billing.get("max_pause_as_instruction_min", 3)
    if not isinstance(pause_min, (int, float)) or pause_min < 0:
        raise InvalidParameterError(
            "max_pause_as_instruction_min",
            pause_min,
            "a number of minutes >= 0",
            f"[billing] in {path}",
        )
    defaults = ClinicInfo()
    info = ClinicInfo(
        name=clinic.get("name", defaults.name),
        address=clinic.get("address", ""),
        phone=clinic.get("phone", ""),
        logo_path=logo,
        provider_label=clinic.get("provider_label", defaults.provider_label),
    )
    return ReportConfig(info, rule, float(pause_min) * 60.0, count_pauses)


def station_report_config(path: str | Path | None = None) -> tuple[ReportConfig | None, str]:
    """The station's report config for a long-running program (the dashboard's console and its
    engine): ``(config, "")``, or ``(None, what is wrong and what to do)`` when the file cannot
    be used. Both processes read the same file, so the note the console shows is the note the
    engine signs and the one ``nmr-balance report`` writes; a broken file is said, never
    replaced by the defaults in silence."""
    try:
        return load_report_config(path), ""
    except ConfigError as e:
        return None, (
            f"the station config cannot be used, so no report, note or signature until it is "
            f"fixed: {e}"
        )
