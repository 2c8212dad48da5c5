"""Thresholds of the audit checks, measured on MAC-Dev gold beads.

``bench/audit_calibration.py --write`` measures them on human translations
(score distributions of faithful beads, and of clauses set against unrelated
beads) and stores them in ``calibration.json`` next to this module, with the
figures they came from, and reference distributions (``reference.drift``:
quantiles of faithful beads' drift signals). The checks read them through
:func:`calibrated` / :func:`reference` and fall back to their built-in
defaults (the values of the last calibration) when the file is missing; the
drift check, which has no default distribution, is then skipped.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@functools.lru_cache(maxsize=1)
def _load_all(path: Path = CALIBRATION_FILE) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _load() -> dict:
    return _load_all().get("thresholds", {})


def calibrated(key: str, default: float) -> float:
    """The calibrated threshold ``key`` (e.g. ``"clauses.sim_clear"``), else ``default``."""
    value = _load().get(key)
    return float(value) if isinstance(value, (int, float)) else default


def reference(key: str) -> dict:
    """A stored reference distribution (e.g. ``"drift"``: quantiles of faithful
    beads' signals), or an empty dict when the file has none."""
    value = _load_all().get("reference", {}).get(key)
    return value if isinstance(value, dict) else {}


def write_calibration(thresholds: dict[str, float], evidence: dict, path: Path = CALIBRATION_FILE,
                      references: dict | None = None) -> None:
    """Store thresholds, the measurements behind them and reference
    distributions (used by the bench)."""
    data = {"thresholds": thresholds, "evidence": evidence}
    if references:
        data["reference"] = references
    text = json.dumps(data, indent=2, ensure_ascii=False)
    # lists of numbers on one line each: the file stays readable and diffable
    text = re.sub(r"\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)
    path.write_text(text + "\n", encoding="utf-8")
    _load_all.cache_clear()
