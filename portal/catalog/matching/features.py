"""Similarity features over (left record, right record) pairs.

`PairFeaturizer.fit` learns only from the two tables' text (TF-IDF vocabularies, token rarity,
each record's best TF-IDF neighbour), never from labels, so it is fitted afresh on whichever
catalog is being matched; the trained model stores the feature names it expects.
Missing information (no price, no brand column) is NaN, not zero: the model tells "unknown" from
"different".
"""

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel
from sklearn.feature_extraction.text import TfidfVectorizer

from .columns import Record
from .normalize import codes, compact, normalize, numbers, quantities, tokens

# Bump when a feature's meaning changes: a model trained on other features must not load.
FEATURE_VERSION = 1
NAN = float("nan")
# Context features rank a pair among this many of a record's TF-IDF neighbours at most.
RANK_CAP = 20
_ROW_CHUNK = 512


@dataclass
class Prepared:
    """One record's normalised forms, computed once per table."""

    name: str
    full: str
    name_tokens: set[str]
    full_tokens: set[str]
    name_codes: set[str]
    full_codes: set[str]
    compact_full: str
    numbers: set[str]
    quantities: set[tuple[float, str]]
    brand: str
    first_token: str
    modelno: str
    category: str
    price: float | None


def prepare(record: Record) -> Prepared:
    name = normalize(record.name)
    full = normalize(
        " ".join(
            filter(
                None, (record.name, record.brand, record.modelno, record.description, record.extra)
            )
        )
    )
    name_tokens = tokens(name)
    return Prepared(
        name=name,
        full=full,
        name_tokens=set(name_tokens),
        full_tokens=set(tokens(full)),
        name_codes=codes(name) | codes(normalize(record.modelno)),
        full_codes=codes(full),
        compact_full=compact(full),
        numbers=numbers(name),
        quantities=quantities(full),
        brand=normalize(record.brand),
        first_token=name_tokens[0] if name_tokens else "",
        modelno=compact(normalize(record.modelno)),
        category=normalize(record.category),
        price=record.price,
    )


def _jaccard(a: set, b: set) -> float:
    if not a and not b:
        return NAN
    return len(a & b) / len(a | b)


def _containment(a: set, b: set) -> float:
    return len(a & b) / len(a) if a else NAN


def _in_text(found: set[str], compact_text: str, min_length: int = 4) -> float:
    """Fraction of codes found as substrings of the other side's compacted text."""
    long_codes = [code for code in found if len(code) >= min_length]
    if not long_codes:
        return NAN
    return sum(code in compact_text for code in long_codes) / len(long_codes)


def _best_code_similarity(a: set[str], b: set[str]) -> tuple[float, float]:
    """Best fuzzy ratio and best shared-prefix fraction between the two sides' codes."""
    if not a or not b:
        return NAN, NAN
    best_ratio = 0.0
    best_prefix = 0.0
    for x in a:
        for y in b:
            best_ratio = max(best_ratio, Indel.normalized_similarity(x, y))
            prefix = 0
            for cx, cy in zip(x, y, strict=False):
                if cx != cy:
                    break
                prefix += 1
            best_prefix = max(best_prefix, prefix / max(len(x), len(y)))
    return best_ratio, best_prefix


def _quantity_features(a: set[tuple[float, str]], b: set[tuple[float, str]]) -> tuple[float, float]:
    """Shared (value, unit) pairs, and units both mention with no value in common."""
    if not a or not b:
        return NAN, NAN
    units_a: dict[str, set[float]] = {}
    units_b: dict[str, set[float]] = {}
    for value, unit in a:
        units_a.setdefault(unit, set()).add(value)
    for value, unit in b:
        units_b.setdefault(unit, set()).add(value)
    common = set(units_a) & set(units_b)
    shared = sum(len(units_a[u] & units_b[u]) for u in common)
    conflicts = sum(1 for u in common if not units_a[u] & units_b[u])
    return float(shared), float(conflicts)


class PairFeaturizer:
    """Fitted on the two tables; turns pairs of ids into a feature matrix."""

    def __init__(self) -> None:
        self.left: dict[str, Prepared] = {}
        self.right: dict[str, Prepared] = {}

    def fit(self, left: dict[str, Record], right: dict[str, Record]) -> "PairFeaturizer":
        self.left = {key: prepare(record) for key, record in left.items()}
        self.right = {key: prepare(record) for key, record in right.items()}
        self.left_ids = list(self.left)
        self.right_ids = list(self.right)
        self.left_index = {key: i for i, key in enumerate(self.left_ids)}
        self.right_index = {key: i for i, key in enumerate(self.right_ids)}
        left_names = [p.name for p in self.left.values()]
        right_names = [p.name for p in self.right.values()]
        left_full = [p.full for p in self.left.values()]
        right_full = [p.full for p in self.right.values()]
        self.vectors = {}
        specs = {
            "char_name": (
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
                left_names,
                right_names,
            ),
            "word_name": (
                TfidfVectorizer(token_pattern=r"[a-z0-9]+(?:[-/.][a-z0-9]+)*", sublinear_tf=True),
                left_names,
                right_names,
            ),
            "word_full": (
                TfidfVectorizer(token_pattern=r"[a-z0-9]+(?:[-/.][a-z0-9]+)*", sublinear_tf=True),
                left_full,
                right_full,
            ),
            "char_full": (
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, max_features=200_000
                ),
                left_full,
                right_full,
            ),
        }
        for key, (vectorizer, a_texts, b_texts) in specs.items():
            vectorizer.fit(a_texts + b_texts)
            self.vectors[key] = (vectorizer.transform(a_texts), vectorizer.transform(b_texts))
        # How rare a code is across both tables: a shared rare code is near-proof of a match.
        code_counts: Counter[str] = Counter()
        for prepared in (*self.left.values(), *self.right.values()):
            code_counts.update(prepared.full_codes)
        self.code_idf = {
            code: math.log((len(self.left) + len(self.right)) / count)
            for code, count in code_counts.items()
        }
        self._context = {key: self._neighbour_stats(key) for key in ("char_name", "word_full")}
        return self

    def _neighbour_stats(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Each left record's best similarity to any right record, and each right's to any left."""
        a, b = self.vectors[key]
        row_best = np.zeros(a.shape[0])
        column_best = np.zeros(b.shape[0])
        bt = b.T.tocsc()
        for start in range(0, a.shape[0], _ROW_CHUNK):
            block = (a[start : start + _ROW_CHUNK] @ bt).toarray()
            if block.size:
                row_best[start : start + block.shape[0]] = block.max(axis=1)
                column_best = np.maximum(column_best, block.max(axis=0))
        return row_best, column_best

    def _ranks(self, key: str, pairs: list[tuple[str, str]], sims: np.ndarray):
        """How many right records beat this pair's right for its left, and vice versa."""
        a, b = self.vectors[key]
        row_rank = np.zeros(len(pairs))
        column_rank = np.zeros(len(pairs))
        by_left: dict[int, list[int]] = {}
        by_right: dict[int, list[int]] = {}
        for n, (lid, rid) in enumerate(pairs):
            by_left.setdefault(self.left_index[lid], []).append(n)
            by_right.setdefault(self.right_index[rid], []).append(n)
        for i, members in by_left.items():
            row = (a[i] @ b.T).toarray().ravel()
            for n in members:
                row_rank[n] = min(RANK_CAP, int((row > sims[n] + 1e-12).sum()))
        for j, members in by_right.items():
            column = (b[j] @ a.T).toarray().ravel()
            for n in members:
                column_rank[n] = min(RANK_CAP, int((column > sims[n] + 1e-12).sum()))
        return row_rank, column_rank

    def transform(self, pairs: list[tuple[str, str]]) -> tuple[np.ndarray, list[str]]:
        if not pairs:
            names = feature_names()
            return np.zeros((0, len(names))), names
        rows = [self._pair_features(self.left[lid], self.right[rid]) for lid, rid in pairs]
        names = list(rows[0])
        columns = [np.array([[row[name] for name in names] for row in rows], dtype=float)]
        li = np.array([self.left_index[lid] for lid, _ in pairs], dtype=int)
        ri = np.array([self.right_index[rid] for _, rid in pairs], dtype=int)
        for key in self.vectors:
            a, b = self.vectors[key]
            sims = np.asarray(a[li].multiply(b[ri]).sum(axis=1)).ravel()
            columns.append(sims[:, None])
            names.append(f"tfidf.{key}")
            if key in self._context:
                row_best, column_best = self._context[key]
                row_rank, column_rank = self._ranks(key, pairs, sims)
                columns.extend(
                    [
                        (sims - row_best[li])[:, None],
                        (sims - column_best[ri])[:, None],
                        row_rank[:, None],
                        column_rank[:, None],
                    ]
                )
                names.extend(
                    [
                        f"context.{key}.gap_left",
                        f"context.{key}.gap_right",
                        f"context.{key}.rank_left",
                        f"context.{key}.rank_right",
                    ]
                )
        return np.hstack(columns), names

    def _pair_features(self, a: Prepared, b: Prepared) -> dict[str, float]:
        f: dict[str, float] = {}
        # Strings: names, and each name against the other side's whole text.
        f["string.name_token_set"] = fuzz.token_set_ratio(a.name, b.name) / 100
        f["string.name_token_sort"] = fuzz.token_sort_ratio(a.name, b.name) / 100
        f["string.name_partial"] = fuzz.partial_ratio(a.name, b.name) / 100
        f["string.name_ratio"] = fuzz.ratio(a.name, b.name) / 100
        f["string.name_jaccard"] = _jaccard(a.name_tokens, b.name_tokens)
        f["string.full_jaccard"] = _jaccard(a.full_tokens, b.full_tokens)
        f["string.left_name_in_right"] = _containment(a.name_tokens, b.full_tokens)
        f["string.right_name_in_left"] = _containment(b.name_tokens, a.full_tokens)
        f["string.name_length_ratio"] = (
            min(len(a.name), len(b.name)) / max(len(a.name), len(b.name))
            if a.name and b.name
            else NAN
        )
        # Model and part numbers.
        shared_name_codes = a.name_codes & b.name_codes
        shared_codes = a.full_codes & b.full_codes
        f["codes.left_count"] = float(len(a.name_codes))
        f["codes.right_count"] = float(len(b.name_codes))
        f["codes.name_shared"] = float(len(shared_name_codes))
        f["codes.full_shared"] = float(len(shared_codes))
        f["codes.name_jaccard"] = _jaccard(a.name_codes, b.name_codes)
        f["codes.full_jaccard"] = _jaccard(a.full_codes, b.full_codes)
        f["codes.left_in_right_text"] = _in_text(a.name_codes, b.compact_full)
        f["codes.right_in_left_text"] = _in_text(b.name_codes, a.compact_full)
        ratio, prefix = _best_code_similarity(a.name_codes, b.name_codes)
        f["codes.name_best_fuzzy"] = ratio
        f["codes.name_best_prefix"] = prefix
        ratio, prefix = _best_code_similarity(a.full_codes, b.full_codes)
        f["codes.full_best_fuzzy"] = ratio
        f["codes.full_best_prefix"] = prefix
        f["codes.shared_max_idf"] = max(
            (self.code_idf.get(c, 0.0) for c in shared_codes), default=0.0
        )
        f["codes.conflict"] = float(
            bool(a.name_codes and b.name_codes)
            and not shared_codes
            and not any(c in b.compact_full for c in a.name_codes if len(c) >= 4)
            and not any(c in a.compact_full for c in b.name_codes if len(c) >= 4)
        )
        if a.modelno and b.modelno:
            f["codes.modelno_equal"] = float(a.modelno == b.modelno)
            f["codes.modelno_fuzzy"] = Indel.normalized_similarity(a.modelno, b.modelno)
        else:
            f["codes.modelno_equal"] = NAN
            f["codes.modelno_fuzzy"] = NAN
        f["codes.numbers_jaccard"] = _jaccard(a.numbers, b.numbers)
        # Numbers with units.
        shared, conflicts = _quantity_features(a.quantities, b.quantities)
        f["numbers.shared"] = shared
        f["numbers.conflicts"] = conflicts
        # Brand: the brand column when there is one, else the first word of the name.
        brand_a = a.brand or a.first_token
        brand_b = b.brand or b.first_token
        f["brand.equal"] = float(brand_a == brand_b) if brand_a and brand_b else NAN
        f["brand.fuzzy"] = (fuzz.ratio(brand_a, brand_b) / 100) if brand_a and brand_b else NAN
        f["brand.left_in_right"] = (
            float(compact(brand_a) in b.compact_full) if len(brand_a) >= 2 else NAN
        )
        f["brand.right_in_left"] = (
            float(compact(brand_b) in a.compact_full) if len(brand_b) >= 2 else NAN
        )
        f["brand.from_column"] = float(bool(a.brand) + bool(b.brand))
        # Price.
        if a.price and b.price:
            f["price.ratio"] = min(a.price, b.price) / max(a.price, b.price)
            f["price.log_diff"] = abs(math.log(a.price) - math.log(b.price))
        else:
            f["price.ratio"] = NAN
            f["price.log_diff"] = NAN
        f["price.count"] = float(bool(a.price) + bool(b.price))
        # Category.
        f["category.token_set"] = (
            fuzz.token_set_ratio(a.category, b.category) / 100 if a.category and b.category else NAN
        )
        return f


def feature_names() -> list[str]:
    """Names in the order `transform` returns them (for an empty pair list too)."""
    blank = prepare(Record(id="", name="x"))
    featurizer = PairFeaturizer()
    featurizer.code_idf = {}
    names = list(featurizer._pair_features(blank, blank))
    for key in ("char_name", "word_name", "word_full", "char_full"):
        names.append(f"tfidf.{key}")
        if key in ("char_name", "word_full"):
            names.extend(
                [
                    f"context.{key}.gap_left",
                    f"context.{key}.gap_right",
                    f"context.{key}.rank_left",
                    f"context.{key}.rank_right",
                ]
            )
    return names


def feature_group(name: str) -> str:
    return name.split(".", 1)[0]
