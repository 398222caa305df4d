"""Benchmarks in the DeepMatcher layout: tableA.csv, tableB.csv, train/valid/test.csv.

`train_model` fits on train and sets thresholds on valid; `evaluate` then scores test, which
nothing before it has looked at. Both need no database.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import model as matcher_model
from .columns import Record, read_pairs, read_table
from .features import PairFeaturizer, feature_group
from .metrics import (
    brier_score,
    expected_calibration_error,
    precision_recall_f1,
    reliability_table,
)

SPLITS = ("train", "valid", "test")


@dataclass
class Split:
    pairs: list[tuple[str, str]]
    labels: np.ndarray
    features: np.ndarray


@dataclass
class Benchmark:
    directory: Path
    left: dict[str, Record]
    right: dict[str, Record]
    left_roles: dict[str, str]
    right_roles: dict[str, str]
    names: list[str]
    splits: dict[str, Split]
    seconds_features: float


class BenchmarkError(ValueError):
    pass


def load_benchmark(directory: str | Path, splits: tuple[str, ...] = SPLITS) -> Benchmark:
    directory = Path(directory)
    for filename in ("tableA.csv", "tableB.csv", *(f"{s}.csv" for s in splits)):
        if not (directory / filename).is_file():
            raise BenchmarkError(f"{directory}: {filename} is missing")
    started = time.perf_counter()
    left, left_roles = read_table(directory / "tableA.csv")
    right, right_roles = read_table(directory / "tableB.csv")
    featurizer = PairFeaturizer().fit(left, right)
    loaded: dict[str, Split] = {}
    names: list[str] = []
    for split in splits:
        rows = read_pairs(directory / f"{split}.csv")
        unknown = [(a, b) for a, b, _ in rows if a not in left or b not in right]
        if unknown:
            raise BenchmarkError(
                f"{directory / (split + '.csv')}: {len(unknown)} pairs name ids not in the tables,"
                f" e.g. {unknown[0]}"
            )
        pairs = [(a, b) for a, b, _ in rows]
        features, names = featurizer.transform(pairs)
        loaded[split] = Split(pairs, np.array([label for *_, label in rows], dtype=int), features)
    for split in ("train", "valid"):
        if split in loaded and len(set(loaded[split].labels.tolist())) < 2:
            raise BenchmarkError(f"{directory}: {split}.csv needs both matches and non-matches")
    return Benchmark(
        directory,
        left,
        right,
        left_roles,
        right_roles,
        names,
        loaded,
        time.perf_counter() - started,
    )


def _columns_without(names: list[str], groups: tuple[str, ...]) -> list[int]:
    return [i for i, name in enumerate(names) if feature_group(name) not in groups]


def train_model(
    benchmark: Benchmark,
    kinds: tuple[str, ...] | None = None,
    drop_groups: tuple[str, ...] = (),
) -> matcher_model.MatcherModel:
    keep = _columns_without(benchmark.names, drop_groups)
    names = [benchmark.names[i] for i in keep]
    train, valid = benchmark.splits["train"], benchmark.splits["valid"]
    return matcher_model.train(
        train.features[:, keep],
        train.labels,
        valid.features[:, keep],
        valid.labels,
        names,
        kinds=kinds,
        trained_on=str(benchmark.directory),
    )


def score(model: matcher_model.MatcherModel, benchmark: Benchmark, split: str) -> np.ndarray:
    columns = [benchmark.names.index(name) for name in model.feature_names]
    return model.predict_proba(benchmark.splits[split].features[:, columns], model.feature_names)


def final_line(precision: float, recall: float, f1: float) -> str:
    return f"precision {precision:.4f} recall {recall:.4f} f1 {f1:.4f}"


def _roles(roles: dict[str, str]) -> str:
    return ", ".join(f"{role}={column}" for role, column in roles.items())


def evaluate(directory: str | Path, echo: Callable[[str], None], ablation: bool = False) -> dict:
    """Trains on train, thresholds on valid, reports on test; the last line echoed is the figure."""
    started = time.perf_counter()
    benchmark = load_benchmark(directory)
    echo(f"Data set {benchmark.directory}")
    echo(f"  tableA: {len(benchmark.left)} records ({_roles(benchmark.left_roles)})")
    echo(f"  tableB: {len(benchmark.right)} records ({_roles(benchmark.right_roles)})")
    for name, split in benchmark.splits.items():
        echo(f"  {name}: {len(split.labels)} pairs, {int(split.labels.sum())} matches")
    echo(f"Features: {len(benchmark.names)} in {benchmark.seconds_features:.1f}s")
    fit_started = time.perf_counter()
    model = train_model(benchmark)
    echo(
        f"Model: {model.kind}, chosen by F1 on valid ("
        + ", ".join(f"{k} {v:.4f}" for k, v in model.metrics["valid_f1_by_model"].items())
        + f"), trained in {time.perf_counter() - fit_started:.1f}s"
    )
    thresholds = model.thresholds
    echo(
        f"Thresholds (valid): decision {thresholds.decision:.4f},"
        f" auto-map {thresholds.auto_map:.4f}"
        f" (precision >= {matcher_model.AUTO_MAP_PRECISION}), new master below"
        f" {thresholds.new_master:.4f} (<= {matcher_model.NEW_MASTER_MAX_MISSED:.0%} of matches)"
    )
    test = benchmark.splits["test"]
    probabilities = score(model, benchmark, "test")
    valid = model.metrics["valid"]
    echo(f"Calibration on valid: Brier {valid['brier']:.4f}, ECE {valid['ece']:.4f}")
    echo(
        f"Calibration on test: Brier {brier_score(test.labels, probabilities):.4f},"
        f" ECE {expected_calibration_error(test.labels, probabilities):.4f}"
    )
    echo("  predicted bin   pairs  mean predicted  observed match rate")
    for row in reliability_table(test.labels, probabilities):
        if row["pairs"]:
            echo(
                f"  {row['low']:.1f}-{row['high']:.1f}      {row['pairs']:6d}  "
                f"{row['predicted']:14.3f}  {row['observed']:19.3f}"
            )
    auto = probabilities >= thresholds.auto_map
    new_master = probabilities < thresholds.new_master
    review = ~auto & ~new_master
    auto_precision = precision_recall_f1(test.labels, auto)[0] if auto.any() else float("nan")
    lost = test.labels[new_master].sum() / max(1, test.labels.sum())
    echo(
        f"Bands on test: auto-map {int(auto.sum())} (precision {auto_precision:.4f}),"
        f" review {int(review.sum())}, new master {int(new_master.sum())}"
        f" (matches among them {lost:.2%})"
    )
    results = {"model": model, "probabilities": probabilities}
    if ablation:
        results["ablation"] = run_ablation(benchmark, echo, model.kind)
    precision, recall, f1 = precision_recall_f1(test.labels, probabilities >= thresholds.decision)
    echo(f"Time: {time.perf_counter() - started:.1f}s")
    echo(final_line(precision, recall, f1))
    results.update(precision=precision, recall=recall, f1=f1)
    return results


def run_ablation(benchmark: Benchmark, echo: Callable[[str], None], kind: str) -> list[dict]:
    """F1 on valid and test for each model kind, and for `kind` without each feature group."""
    rows = []
    test = benchmark.splits["test"]
    groups = sorted({feature_group(name) for name in benchmark.names})

    def measure(label: str, kinds, drop: tuple[str, ...]) -> None:
        trained = train_model(benchmark, kinds=kinds, drop_groups=drop)
        probabilities = score(trained, benchmark, "test")
        test_f1 = precision_recall_f1(test.labels, probabilities >= trained.thresholds.decision)[2]
        valid_f1 = trained.metrics["valid"]["f1"]
        rows.append({"variant": label, "valid_f1": valid_f1, "test_f1": test_f1})
        echo(f"  {label:48s} valid F1 {valid_f1:.4f}  test F1 {test_f1:.4f}")

    echo("Ablation (each row retrains; thresholds on valid):")
    for candidate in matcher_model.CANDIDATES:
        measure(f"{candidate}, all features", (candidate,), ())
    for group in groups:
        measure(f"{kind} without {group}", (kind,), (group,))
    measure(f"{kind} without context and tfidf", (kind,), ("context", "tfidf"))
    measure(f"{kind} with string features only", (kind,), tuple(g for g in groups if g != "string"))
    return rows
