"""Thresholds of the audit checks, measured on MAC-Dev gold beads.

``bench/audit_calibration.py --write`` measures them on human translations
(score distributions of faithful beads, and of clauses set against unrelated
beads) and stores them in ``calibration.json`` next to this module, with the
figures they came from. The checks read them through :func:`calibrated` and
fall back to their built-in defaults (the values of the last calibration)
when the file is missing.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@functools.lru_cache(maxsize=1)
def _load(path: Path = CALIBRATION_FILE) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("thresholds", {}) if isinstance(data, dict) else {}


def calibrated(key: str, default: float) -> float:
    """The calibrated threshold ``key`` (e.g. ``"clauses.sim_clear"``), else ``default``."""
    value = _load().get(key)
    return float(value) if isinstance(value, (int, float)) else default


def write_calibration(thresholds: dict[str, float], evidence: dict, path: Path = CALIBRATION_FILE) -> None:
    """Store thresholds and the measurements behind them (used by the bench)."""
    path.write_text(json.dumps({"thresholds": thresholds, "evidence": evidence}, indent=2,
                               ensure_ascii=False) + "\n", encoding="utf-8")
    _load.cache_clear()
