import joblib
import numpy as np
import pytest

from portal.catalog.matching import model as matcher_model
from portal.catalog.matching.features import FEATURE_VERSION, feature_names
from portal.catalog.matching.metrics import (
    best_f1_threshold,
    brier_score,
    choose_band_thresholds,
    expected_calibration_error,
    precision_recall_f1,
    reliability_table,
)


def test_best_f1_threshold_separates_a_clean_split():
    labels = np.array([0, 0, 0, 1, 1])
    scores = np.array([0.1, 0.2, 0.4, 0.6, 0.9])
    threshold, f1 = best_f1_threshold(labels, scores)
    assert f1 == 1.0
    # The highest cut-off with that F1: the lowest match's score.
    assert threshold == 0.6


def test_band_thresholds_meet_their_targets():
    rng = np.random.default_rng(0)
    scores = rng.uniform(size=4000)
    labels = rng.uniform(size=4000) < scores  # calibrated by construction
    auto_map, new_master = choose_band_thresholds(labels, scores, 0.95, 0.02)
    assert new_master < auto_map
    assert precision_recall_f1(labels, scores >= auto_map)[0] >= 0.95
    # The next score down would break the target: the band is as wide as it may be.
    below = scores[scores < auto_map].max()
    assert precision_recall_f1(labels, scores >= below)[0] < 0.95 or below < 0.9
    assert (scores[labels] < new_master).mean() <= 0.02
    assert new_master > 0.05


def test_no_safe_auto_band_means_nothing_is_auto_mapped():
    labels = np.array([1, 0, 1, 0])
    scores = np.array([0.9, 0.9, 0.8, 0.8])
    auto_map, _ = choose_band_thresholds(labels, scores, 0.98, 0.02)
    assert auto_map > 1.0


def test_reliability_table_and_brier():
    labels = np.array([0, 0, 1, 1])
    scores = np.array([0.05, 0.15, 0.85, 0.95])
    rows = reliability_table(labels, scores, bins=2)
    assert [r["pairs"] for r in rows] == [2, 2]
    assert rows[0]["observed"] == 0.0 and rows[1]["observed"] == 1.0
    assert rows[1]["predicted"] == pytest.approx(0.9)
    assert brier_score(labels, scores) == pytest.approx((0.05**2 + 0.15**2) / 2)


def _synthetic(n, rng):
    features = rng.normal(size=(n, 3))
    logit = 2.5 * features[:, 0] - 1.5 * features[:, 1] - 2.0
    labels = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return features, labels


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(1)
    names = ["string.a", "string.b", "string.noise"]
    x_train, y_train = _synthetic(3000, rng)
    x_valid, y_valid = _synthetic(1500, rng)
    x_test, y_test = _synthetic(3000, rng)
    model = matcher_model.train(
        x_train, y_train, x_valid, y_valid, names, kinds=("lightgbm", "logistic_regression")
    )
    return model, names, x_test, y_test


def test_calibrated_scores_mean_what_they_say(trained):
    model, names, x_test, y_test = trained
    probabilities = model.predict_proba(x_test, names)
    assert expected_calibration_error(y_test, probabilities) < 0.05
    for row in reliability_table(y_test, probabilities, bins=5):
        if row["pairs"] >= 200:
            assert abs(row["predicted"] - row["observed"]) < 0.1


def test_thresholds_are_ordered_and_stored(trained, tmp_path):
    model, names, x_test, _ = trained
    t = model.thresholds
    assert 0 <= t.new_master <= t.decision <= t.auto_map
    assert model.thresholds.band(t.auto_map) == "auto"
    assert model.thresholds.band(t.new_master - 1e-9) == "new_master"
    loaded = matcher_model.load(model.save(tmp_path / "m.joblib"))
    assert loaded.thresholds == t and loaded.kind == model.kind
    np.testing.assert_array_equal(
        loaded.predict_proba(x_test, names), model.predict_proba(x_test, names)
    )


def test_training_is_repeatable(trained):
    model, names, x_test, _ = trained
    rng = np.random.default_rng(1)
    x_train, y_train = _synthetic(3000, rng)
    x_valid, y_valid = _synthetic(1500, rng)
    again = matcher_model.train(
        x_train, y_train, x_valid, y_valid, names, kinds=("lightgbm", "logistic_regression")
    )
    assert again.thresholds == model.thresholds
    np.testing.assert_array_equal(
        again.predict_proba(x_test, names), model.predict_proba(x_test, names)
    )


def test_other_features_are_refused(trained):
    model, _, x_test, _ = trained
    with pytest.raises(ValueError, match="retrain"):
        model.predict_proba(x_test, ["string.a", "string.b", "price.ratio"])


def test_a_file_of_another_version_is_refused(trained, tmp_path):
    model, *_ = trained
    path = model.save(tmp_path / "m.joblib")
    data = joblib.load(path)
    data["feature_version"] = FEATURE_VERSION + 1
    joblib.dump(data, path)
    with pytest.raises(matcher_model.ModelFileError, match="retrain"):
        matcher_model.load(path)
    with pytest.raises(matcher_model.ModelFileError, match="flask catalog train"):
        matcher_model.load(tmp_path / "missing.joblib")


def test_the_committed_model_loads_with_todays_features(app):
    model = matcher_model.load(app.config["CATALOG_MATCHER_MODEL"])
    assert model.feature_names == feature_names()
    assert 0 < model.thresholds.new_master <= model.thresholds.decision <= model.thresholds.auto_map
