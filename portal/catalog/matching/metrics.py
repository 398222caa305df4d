"""Precision/recall/F1, threshold choice and calibration measures (no model, no data set)."""

import numpy as np


def precision_recall_f1(labels, predicted) -> tuple[float, float, float]:
    labels = np.asarray(labels).astype(bool)
    predicted = np.asarray(predicted).astype(bool)
    true_positive = float((labels & predicted).sum())
    precision = true_positive / predicted.sum() if predicted.sum() else 0.0
    recall = true_positive / labels.sum() if labels.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def best_f1_threshold(labels, probabilities) -> tuple[float, float]:
    """The threshold t (predict a match when p >= t) with the highest F1, and that F1.

    Ties on F1 take the highest threshold: the same F1 with fewer automatic matches."""
    labels = np.asarray(labels).astype(bool)
    probabilities = np.asarray(probabilities, dtype=float)
    best = (1.0, 0.0)
    for threshold in np.unique(probabilities):
        f1 = precision_recall_f1(labels, probabilities >= threshold)[2]
        if f1 > best[1] or (f1 == best[1] and threshold > best[0]):
            best = (float(threshold), f1)
    return best


def choose_band_thresholds(
    labels, probabilities, target_precision: float, max_missed: float
) -> tuple[float, float]:
    """(auto_map, new_master) on labelled pairs.

    auto_map: the lowest score at and above which precision is at least `target_precision`
    (every higher cut-off too, so the band above it is safe throughout); 1.0 + tiny when none.
    new_master: the highest score below which at most `max_missed` of the matches fall.
    """
    labels = np.asarray(labels).astype(bool)
    probabilities = np.asarray(probabilities, dtype=float)
    candidates = np.unique(probabilities)[::-1]  # high to low
    auto_map = float(np.nextafter(1.0, 2.0))
    for threshold in candidates:
        precision = precision_recall_f1(labels, probabilities >= threshold)[0]
        if precision < target_precision:
            break
        auto_map = float(threshold)
    matches = probabilities[labels]
    new_master = 0.0
    if matches.size:
        for threshold in np.unique(probabilities):
            if (matches < threshold).mean() <= max_missed:
                new_master = float(threshold)
            else:
                break
    return auto_map, new_master


def brier_score(labels, probabilities) -> float:
    labels = np.asarray(labels, dtype=float)
    probabilities = np.asarray(probabilities, dtype=float)
    return float(np.mean((probabilities - labels) ** 2)) if labels.size else 0.0


def reliability_table(labels, probabilities, bins: int = 10) -> list[dict]:
    """Per score bin: pairs, mean predicted probability, observed match rate."""
    labels = np.asarray(labels, dtype=float)
    probabilities = np.asarray(probabilities, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    for i in range(bins):
        low, high = edges[i], edges[i + 1]
        inside = (probabilities >= low) & (
            (probabilities <= high) if i == bins - 1 else (probabilities < high)
        )
        count = int(inside.sum())
        rows.append(
            {
                "low": float(low),
                "high": float(high),
                "pairs": count,
                "predicted": float(probabilities[inside].mean()) if count else None,
                "observed": float(labels[inside].mean()) if count else None,
            }
        )
    return rows


def expected_calibration_error(labels, probabilities, bins: int = 10) -> float:
    total = len(labels)
    if not total:
        return 0.0
    return sum(
        row["pairs"] / total * abs(row["predicted"] - row["observed"])
        for row in reliability_table(labels, probabilities, bins)
        if row["pairs"]
    )
