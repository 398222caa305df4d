"""The scoring model: a classifier chosen on validation data, calibrated, with its thresholds.

Calibration is cross-validated on the training pairs (isotonic, 5 folds), so the validation pairs
stay unseen until they choose the model and the thresholds. The file it saves is a joblib dict with
a format version; `load` refuses a file of another version or feature set instead of scoring
nonsense.
"""

import platform
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import lightgbm
import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .features import FEATURE_VERSION
from .metrics import (
    best_f1_threshold,
    brier_score,
    choose_band_thresholds,
    expected_calibration_error,
    precision_recall_f1,
)

MODEL_FORMAT = "portal-catalog-matcher"
MODEL_VERSION = 1
SEED = 20261204
CALIBRATION_FOLDS = 5
# Auto-map only where validation precision reaches this; a new master only below the score under
# which at most this share of validation matches falls (issue 12; configuration may override).
AUTO_MAP_PRECISION = 0.98
NEW_MASTER_MAX_MISSED = 0.02


def _lightgbm(seed: int):
    return lightgbm.LGBMClassifier(
        n_estimators=400,
        learning_rate=0.03,
        num_leaves=15,
        min_child_samples=10,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        reg_lambda=1.0,
        random_state=seed,
        n_jobs=1,
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )


def _hist_gradient_boosting(seed: int):
    return HistGradientBoostingClassifier(
        max_iter=400,
        learning_rate=0.05,
        max_leaf_nodes=15,
        l2_regularization=1.0,
        random_state=seed,
    )


def _logistic_regression(seed: int):
    return make_pipeline(
        SimpleImputer(
            strategy="constant", fill_value=0.0, add_indicator=True, keep_empty_features=True
        ),
        StandardScaler(),
        LogisticRegression(C=1.0, max_iter=5000, random_state=seed),
    )


CANDIDATES = {
    "lightgbm": _lightgbm,
    "hist_gradient_boosting": _hist_gradient_boosting,
    "logistic_regression": _logistic_regression,
}


@dataclass
class Thresholds:
    decision: float  # max F1 on validation: the match / no-match line
    auto_map: float  # at or above: mapped without review
    new_master: float  # below: a new master product

    def band(self, probability: float) -> str:
        if probability >= self.auto_map:
            return "auto"
        if probability < self.new_master:
            return "new_master"
        return "review"


@dataclass
class MatcherModel:
    kind: str
    feature_names: list[str]
    kept: list[str]
    estimator: object
    thresholds: Thresholds
    metrics: dict = field(default_factory=dict)
    trained_on: str = ""

    def _columns(self, features: np.ndarray, names: list[str]) -> np.ndarray:
        if list(names) != list(self.feature_names):
            raise ValueError("feature names differ from the model's: retrain the model")
        index = [self.feature_names.index(name) for name in self.kept]
        return features[:, index]

    def predict_proba(self, features: np.ndarray, names: list[str]) -> np.ndarray:
        if len(features) == 0:
            return np.zeros(0)
        return self.estimator.predict_proba(self._columns(features, names))[:, 1]

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {
                "format": MODEL_FORMAT,
                "version": MODEL_VERSION,
                "feature_version": FEATURE_VERSION,
                "libraries": {
                    "python": platform.python_version(),
                    "scikit-learn": sklearn.__version__,
                    "lightgbm": lightgbm.__version__,
                },
                "kind": self.kind,
                "feature_names": self.feature_names,
                "kept": self.kept,
                "estimator": self.estimator,
                "thresholds": vars(self.thresholds),
                "metrics": self.metrics,
                "trained_on": self.trained_on,
            },
            path,
            compress=3,
        )
        return path


class ModelFileError(ValueError):
    pass


def load(path: str | Path) -> MatcherModel:
    """The model in a file `save` wrote; ModelFileError when it is missing or of another version."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"no matcher model at {path} (build one: flask catalog train)")
    data = joblib.load(path)
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{path} is not a catalog matcher model")
    if data.get("version") != MODEL_VERSION or data.get("feature_version") != FEATURE_VERSION:
        raise ModelFileError(
            f"{path} is model version {data.get('version')}/features {data.get('feature_version')},"
            f" this code reads {MODEL_VERSION}/{FEATURE_VERSION}: retrain it"
        )
    return MatcherModel(
        kind=data["kind"],
        feature_names=data["feature_names"],
        kept=data["kept"],
        estimator=data["estimator"],
        thresholds=Thresholds(**data["thresholds"]),
        metrics=data.get("metrics", {}),
        trained_on=data.get("trained_on", ""),
    )


def _informative(features: np.ndarray, names: list[str]) -> list[str]:
    """Columns with at least two distinct known values in training (a data set without a price
    or brand column leaves those all-NaN, which some estimators refuse)."""
    kept = []
    for i, name in enumerate(names):
        column = features[:, i]
        known = column[~np.isnan(column)]
        if known.size and np.unique(known).size > 1:
            kept.append(name)
    return kept


def fit_calibrated(kind: str, features: np.ndarray, labels: np.ndarray, seed: int = SEED):
    """The estimator of `kind`, fitted on all training pairs, with an isotonic calibrator fitted on
    its out-of-fold scores."""
    folds = StratifiedKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=seed)
    calibrated = CalibratedClassifierCV(
        CANDIDATES[kind](seed), method="isotonic", cv=folds, ensemble=False
    )
    # One thread: OpenMP estimators slow down many-fold on a shared, loaded machine, and the
    # result is the same.
    with threadpool_limits(limits=1):
        return calibrated.fit(features, labels)


def train(
    train_features: np.ndarray,
    train_labels: np.ndarray,
    valid_features: np.ndarray,
    valid_labels: np.ndarray,
    names: list[str],
    kinds: tuple[str, ...] | None = None,
    seed: int = SEED,
    auto_map_precision: float = AUTO_MAP_PRECISION,
    new_master_max_missed: float = NEW_MASTER_MAX_MISSED,
    trained_on: str = "",
) -> MatcherModel:
    """Fits every candidate on train, keeps the best F1 on valid, and sets thresholds on valid."""
    kept = _informative(train_features, names)
    index = [names.index(name) for name in kept]
    x_train, x_valid = train_features[:, index], valid_features[:, index]
    results = {}
    for kind in kinds or tuple(CANDIDATES):
        estimator = fit_calibrated(kind, x_train, train_labels, seed)
        probabilities = estimator.predict_proba(x_valid)[:, 1]
        threshold, f1 = best_f1_threshold(valid_labels, probabilities)
        results[kind] = (f1, estimator, probabilities, threshold)
    # Ties go to the earlier (listed first) candidate.
    kind = max(results, key=lambda k: results[k][0])
    f1, estimator, probabilities, decision = results[kind]
    auto_map, new_master = choose_band_thresholds(
        valid_labels, probabilities, auto_map_precision, new_master_max_missed
    )
    precision, recall, _ = precision_recall_f1(valid_labels, probabilities >= decision)
    return MatcherModel(
        kind=kind,
        feature_names=list(names),
        kept=kept,
        estimator=estimator,
        thresholds=Thresholds(
            decision=decision,
            auto_map=max(auto_map, decision),
            new_master=min(new_master, decision),
        ),
        metrics={
            "valid": {
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "brier": brier_score(valid_labels, probabilities),
                "ece": expected_calibration_error(valid_labels, probabilities),
            },
            "valid_f1_by_model": {k: results[k][0] for k in results},
            "seed": seed,
        },
        trained_on=trained_on,
    )
