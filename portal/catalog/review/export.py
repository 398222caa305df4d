"""Review decisions as a benchmark in the DeepMatcher layout, so they train the next model.

``tableA.csv`` holds the vendor products and ``tableB.csv`` the masters, both as the decision's
snapshot saw them; ``train.csv`` and ``valid.csv`` hold ``ltable_id,rtable_id,label``
(``flask catalog train`` fits on the first and sets thresholds on the second). A pair decided twice
keeps its latest label; undone decisions are left out. A remap labels two pairs: the proposed
master 0, the master chosen instead 1.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ...extensions import db
from ..models import MatchDecision

PAIR_KINDS = ("approve", "bulk_approve", "reject", "remap")
TABLE_COLUMNS = (
    "id",
    "title",
    "description",
    "brand",
    "category",
    "modelno",
    "price",
    "attributes",
)
VALID_EVERY = 5  # every fifth pair of each label goes to valid.csv


@dataclass(frozen=True)
class ExportCounts:
    products: int
    masters: int
    train: int
    valid: int
    matches: int


def _attributes_text(attributes: dict[str, Any] | None) -> str:
    return "; ".join(f"{key}: {value}" for key, value in (attributes or {}).items())


def _row(record: dict[str, Any]) -> dict[str, str]:
    row = {column: record.get(column) or "" for column in TABLE_COLUMNS}
    row["attributes"] = _attributes_text(record.get("attributes"))
    return {key: str(value) for key, value in row.items()}


def labelled_pairs() -> tuple[dict, dict, dict[tuple[str, str], int]]:
    """Products and masters by id, and the label of each (product, master) pair."""
    decisions = db.session.scalars(
        sa.select(MatchDecision)
        .where(
            MatchDecision.kind.in_(PAIR_KINDS),
            MatchDecision.undone_at.is_(None),
            MatchDecision.snapshot.is_not(None),
        )
        .order_by(MatchDecision.created_at, MatchDecision.id)
    )
    products: dict[str, dict] = {}
    masters: dict[str, dict] = {}
    labels: dict[tuple[str, str], int] = {}
    for decision in decisions:
        snapshot = decision.snapshot
        product, master = snapshot["product"], snapshot["master"]
        products[product["id"]] = product  # the latest snapshot of a record wins
        masters[master["id"]] = master
        labels.pop((product["id"], master["id"]), None)  # re-inserted: keeps decision order
        labels[(product["id"], master["id"])] = decision.label
        chosen = snapshot.get("chosen")
        if chosen:
            masters[chosen["id"]] = chosen
            labels.pop((product["id"], chosen["id"]), None)
            labels[(product["id"], chosen["id"])] = 1
    return products, masters, labels


def _split(labels: dict[tuple[str, str], int]) -> tuple[list, list]:
    train, valid = [], []
    for label in (1, 0):
        pairs = [(left, right, label) for (left, right), value in labels.items() if value == label]
        chosen = [pair for n, pair in enumerate(pairs) if n % VALID_EVERY == VALID_EVERY - 1]
        if not chosen and len(pairs) >= 2:
            chosen = [pairs[-1]]  # valid needs both labels to set thresholds on
        valid.extend(chosen)
        train.extend(pair for pair in pairs if pair not in chosen)
    return train, valid


def _write(path: Path, header, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def export(directory: str | Path) -> ExportCounts:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    products, masters, labels = labelled_pairs()
    train, valid = _split(labels)
    for name, records in (("tableA.csv", products), ("tableB.csv", masters)):
        _write(
            directory / name,
            TABLE_COLUMNS,
            ([_row(r)[c] for c in TABLE_COLUMNS] for r in records.values()),
        )
    _write(directory / "train.csv", ("ltable_id", "rtable_id", "label"), train)
    _write(directory / "valid.csv", ("ltable_id", "rtable_id", "label"), valid)
    return ExportCounts(
        products=len(products),
        masters=len(masters),
        train=len(train),
        valid=len(valid),
        matches=sum(labels.values()),
    )
