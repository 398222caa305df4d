"""The scoring model the matcher uses in this process, and the thresholds in force.

The model file is read once per process (the first run that needs it) and kept, keyed by its path
and modification time, so a retrained file is picked up without a restart. A missing or
unreadable file is not an error: the matcher then does exact matches and review only, and the
reason is kept here for the run and the admin page to show.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from flask import current_app

from .model import MatcherModel, ModelFileError, Thresholds, load

log = logging.getLogger(__name__)

_cache: dict[tuple[str, float], tuple[MatcherModel | None, str | None]] = {}


@dataclass(frozen=True)
class ActiveMatcher:
    path: str
    model: MatcherModel | None
    # Why there is no model, in words; None when there is one.
    notice: str | None
    thresholds: Thresholds | None
    overridden: tuple[str, ...] = ()


def _read(path: str) -> tuple[MatcherModel | None, str | None]:
    try:
        stamp = os.path.getmtime(path)
    except OSError:
        stamp = -1.0
    key = (path, stamp)
    if key not in _cache:
        try:
            model = load(path)
        except Exception as error:  # any unreadable file: fall back, say why
            why = (
                str(error)
                if isinstance(error, ModelFileError)
                else (f"{path} could not be read: {type(error).__name__} {error}")
            )
            notice = (
                f"No scoring model could be loaded ({why}). The matcher makes exact matches"
                " (GTIN, SKU, model number, name) and sends the rest to review; it creates no"
                " new masters and maps nothing automatically from scores."
            )
            log.warning("catalog matcher: %s", notice)
            _cache[key] = (None, notice)
        else:
            _cache[key] = (model, None)
    return _cache[key]


def active_matcher() -> ActiveMatcher:
    """The configured model and its thresholds, with CATALOG_*_THRESHOLD overrides applied."""
    config = current_app.config
    path = str(config["CATALOG_MATCHER_MODEL"])
    model, notice = _read(path)
    if model is None:
        return ActiveMatcher(path=path, model=None, notice=notice, thresholds=None)
    stored = model.thresholds
    auto_map = config.get("CATALOG_AUTO_MAP_THRESHOLD")
    new_master = config.get("CATALOG_NEW_MASTER_THRESHOLD")
    overridden = tuple(
        name
        for name, value in (("auto_map", auto_map), ("new_master", new_master))
        if value is not None
    )
    thresholds = Thresholds(
        decision=stored.decision,
        auto_map=float(auto_map) if auto_map is not None else stored.auto_map,
        new_master=float(new_master) if new_master is not None else stored.new_master,
    )
    return ActiveMatcher(
        path=path, model=model, notice=None, thresholds=thresholds, overridden=overridden
    )
