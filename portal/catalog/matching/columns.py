"""Reads a benchmark table (tableA.csv / tableB.csv) whatever its columns are called.

Benchmarks in the DeepMatcher layout name the same thing differently (`name` or `title`,
`manufacturer` or `brand`); every column is mapped to one role, and columns with no role are kept
as extra text so no information is dropped.
"""

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

# The first alias found in a table wins for its role; matched on the lowercased header.
ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "title", "product_name", "productname", "product"),
    "description": ("description", "desc", "details", "long_description"),
    "brand": ("brand", "manufacturer", "maker", "vendor_brand"),
    "modelno": ("modelno", "model_no", "model_number", "model", "mpn", "part_number"),
    "category": ("category", "categories", "product_type", "type"),
    "price": ("price", "list_price", "sale_price"),
}
ID_COLUMN = "id"
PAIR_COLUMNS = ("ltable_id", "rtable_id", "label")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Record:
    id: str
    name: str = ""
    description: str = ""
    brand: str = ""
    modelno: str = ""
    category: str = ""
    price: float | None = None
    extra: str = ""
    fields: dict[str, str] = field(default_factory=dict, compare=False)


def detect_columns(header: list[str]) -> dict[str, str]:
    """Role -> column name for the roles this header has."""
    lowered = {column.strip().lower(): column for column in header}
    roles: dict[str, str] = {}
    for role, aliases in ROLE_ALIASES.items():
        for alias in aliases:
            if alias in lowered and lowered[alias] not in roles.values():
                roles[role] = lowered[alias]
                break
    return roles


def parse_price(text: str) -> float | None:
    """A price from text such as '399.0', '$1,299.99' or 'USD 12'; None when there is none."""
    match = _NUMBER.search(text or "")
    if not match:
        return None
    value = float(match.group(0).replace(",", ""))
    return value if value > 0 else None


def read_table(path: str | Path) -> tuple[dict[str, Record], dict[str, str]]:
    """Records by id, and the role -> column mapping found."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        if ID_COLUMN not in header:
            raise ValueError(f"{path}: no '{ID_COLUMN}' column (columns: {', '.join(header)})")
        roles = detect_columns(header)
        if "name" not in roles:
            raise ValueError(f"{path}: no name or title column (columns: {', '.join(header)})")
        used = set(roles.values()) | {ID_COLUMN}
        others = [column for column in header if column not in used]
        records: dict[str, Record] = {}
        for row in reader:
            values = {role: (row.get(column) or "").strip() for role, column in roles.items()}
            records[row[ID_COLUMN].strip()] = Record(
                id=row[ID_COLUMN].strip(),
                name=values.get("name", ""),
                description=values.get("description", ""),
                brand=values.get("brand", ""),
                modelno=values.get("modelno", ""),
                category=values.get("category", ""),
                price=parse_price(values.get("price", "")),
                extra=" ".join((row.get(column) or "").strip() for column in others).strip(),
                fields={role: values[role] for role in values},
            )
    return records, roles


def read_pairs(path: str | Path) -> list[tuple[str, str, int]]:
    """(left id, right id, label) rows of train/valid/test.csv."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(PAIR_COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: no {', '.join(sorted(missing))} column")
        pairs = []
        for line, row in enumerate(reader, start=2):
            label = (row["label"] or "").strip()
            if label not in {"0", "1"}:
                raise ValueError(f"{path}, line {line}: label {label!r} is not 0 or 1")
            pairs.append((row["ltable_id"].strip(), row["rtable_id"].strip(), int(label)))
        return pairs
