"""A small benchmark in the DeepMatcher layout, generated with a seed: the same products listed
by two shops that spell them differently, plus near-miss products (same brand and kind, another
model number). It stands in for a real benchmark where CI has none."""

import csv
import random
from pathlib import Path

BRANDS = ["acme", "globex", "initech", "umbrella", "hooli", "vandelay", "wonka", "stark"]
KINDS = [
    ("lcd television", "in", [32, 40, 42, 46, 52]),
    ("portable hard drive", "gb", [250, 320, 500, 750]),
    ("digital camera", "megapixel", [8, 10, 12, 14]),
    ("wireless router", "port", [4, 8]),
    ("stereo receiver", "watt", [100, 150, 200]),
]
COLOURS = ["black", "silver", "white", "red"]


def _code(rng: random.Random) -> str:
    letters = "".join(rng.choice("abcdefghkmnprstvx") for _ in range(rng.randint(2, 3)))
    return f"{letters}{rng.randint(10, 9999)}{rng.choice(['', 'b', 'bk', 's'])}"


def _respell(code: str, rng: random.Random) -> str:
    """How another shop writes the same code: hyphenated, uppercased, or as it is."""
    split = next(i for i, ch in enumerate(code) if ch.isdigit())
    return rng.choice([code, f"{code[:split]}-{code[split:]}", code.upper()])


def write_benchmark(directory: Path, products: int = 120, seed: int = 7) -> Path:
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    catalog = []
    for i in range(products):
        brand = rng.choice(BRANDS)
        kind, unit, sizes = rng.choice(KINDS)
        catalog.append(
            {
                "brand": brand,
                "kind": kind,
                "unit": unit,
                "size": rng.choice(sizes),
                "code": _code(rng),
                "colour": rng.choice(COLOURS),
                "price": round(rng.uniform(20, 900), 2),
                "id": i,
            }
        )
    # Left: title/manufacturer/modelno/category/price columns; right: name/description/brand.
    with open(directory / "tableA.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "manufacturer", "modelno", "category", "price"])
        for p in catalog:
            writer.writerow(
                [
                    p["id"],
                    f"{p['brand']} {p['colour']} {p['size']} {p['unit']} {p['kind']} {p['code']}",
                    p["brand"],
                    p["code"],
                    p["kind"],
                    p["price"],
                ]
            )
    with open(directory / "tableB.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "description", "brand", "price"])
        for p in catalog:
            words = [p["brand"], p["kind"], _respell(p["code"], rng)]
            rng.shuffle(words[1:])
            price = "" if rng.random() < 0.3 else round(p["price"] * rng.uniform(0.85, 1.15), 2)
            writer.writerow(
                [
                    p["id"],
                    " ".join(words),
                    f"{p['size']}{p['unit']} {p['colour']} finish",
                    p["brand"] if rng.random() < 0.7 else "",
                    price,
                ]
            )
    pairs = []
    for p in catalog:
        pairs.append((p["id"], p["id"], 1))
        similar = [q for q in catalog if q["id"] != p["id"] and q["kind"] == p["kind"]]
        for q in rng.sample(similar, min(3, len(similar))):
            pairs.append((p["id"], q["id"], 0))
    rng.shuffle(pairs)
    cut_train, cut_valid = int(len(pairs) * 0.6), int(len(pairs) * 0.8)
    for name, rows in (
        ("train", pairs[:cut_train]),
        ("valid", pairs[cut_train:cut_valid]),
        ("test", pairs[cut_valid:]),
    ):
        with open(directory / f"{name}.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["ltable_id", "rtable_id", "label"])
            writer.writerows(rows)
    return directory
