"""What drove a pair's score, in words, for the review panel (``MatchProposal.reasons``).

Each reason is ``{"feature": name, "value": float, "text": plain words}``; at most
``MAX_REASONS``, strongest evidence first: model numbers, then brand, sizes, the names' likeness,
price, and how this master ranks among the product's candidates.
"""

from __future__ import annotations

import math

from .features import Prepared

MAX_REASONS = 5


def _known(value: float) -> bool:
    return value is not None and not math.isnan(value)


def _reason(feature: str, value: float, text: str) -> dict:
    return {"feature": feature, "value": round(float(value), 4), "text": text}


def _listed(values) -> str:
    return ", ".join(sorted(values)[:3])


def explain(features: dict[str, float], left: Prepared, right: Prepared) -> list[dict]:
    """Reasons for one (vendor product, master) pair from its feature values."""
    out: list[dict] = []
    shared = left.full_codes & right.full_codes
    if features.get("codes.name_shared", 0) > 0 or shared:
        codes = (left.name_codes & right.name_codes) or shared
        out.append(
            _reason("codes.name_shared", len(codes), f"Model numbers match: {_listed(codes)}")
        )
    elif features.get("codes.conflict") == 1.0:
        out.append(
            _reason(
                "codes.conflict",
                1.0,
                f"Model numbers differ: {_listed(left.name_codes)} vs {_listed(right.name_codes)}",
            )
        )
    elif _known(features.get("codes.left_in_right_text", math.nan)) and (
        features["codes.left_in_right_text"] > 0
    ):
        out.append(
            _reason(
                "codes.left_in_right_text",
                features["codes.left_in_right_text"],
                "The product's model number appears in the master's text",
            )
        )
    brand_equal = features.get("brand.equal", math.nan)
    if _known(brand_equal):
        brand_a = left.brand or left.first_token
        brand_b = right.brand or right.first_token
        text = f"Same brand: {brand_a}" if brand_equal else f"Brands differ: {brand_a} vs {brand_b}"
        out.append(_reason("brand.equal", brand_equal, text))
    shared_numbers = features.get("numbers.shared", math.nan)
    conflicts = features.get("numbers.conflicts", math.nan)
    if _known(conflicts) and conflicts > 0:
        out.append(_reason("numbers.conflicts", conflicts, "Sizes or quantities differ"))
    elif _known(shared_numbers) and shared_numbers > 0:
        same = sorted(f"{value:g} {unit}" for value, unit in left.quantities & right.quantities)
        out.append(_reason("numbers.shared", shared_numbers, f"Same sizes: {_listed(same)}"))
    likeness = features.get("tfidf.char_name", math.nan)
    if _known(likeness):
        out.append(
            _reason("tfidf.char_name", likeness, f"Names are {likeness:.0%} alike by their letters")
        )
    ratio = features.get("price.ratio", math.nan)
    if _known(ratio):
        text = (
            f"Prices within {1 - ratio:.0%} of each other"
            if ratio >= 0.8
            else f"Prices differ: the lower is {ratio:.0%} of the higher"
        )
        out.append(_reason("price.ratio", ratio, text))
    rank = features.get("context.char_name.rank_left", math.nan)
    if _known(rank):
        text = (
            "The closest name among this product's candidates"
            if rank == 0
            else f"{int(rank)} other candidate(s) have closer names"
        )
        out.append(_reason("context.char_name.rank_left", rank, text))
    return out[:MAX_REASONS]


def fallback_reason(similarity: float) -> list[dict]:
    return [
        _reason(
            "trigram_similarity",
            similarity,
            f"No scoring model: names are {similarity:.0%} alike by trigrams",
        )
    ]
