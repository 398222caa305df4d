import math

import pytest

from portal.catalog.matching.columns import Record
from portal.catalog.matching.features import PairFeaturizer, feature_names
from portal.catalog.matching.normalize import codes, normalize, quantities

LEFT = {
    "tv": Record(id="tv", name="Sony Bravia 40 inch LCD HDTV KDL-40V4100", price=999.0),
    "cam": Record(id="cam", name="Nikon Coolpix P6000 13.5 megapixel camera black"),
}
RIGHT = {
    "tv": Record(
        id="tv", name="sony kdl40v4100 bravia lcd television", description="40'' 1080p", price=899.0
    ),
    "other_tv": Record(id="other_tv", name="Samsung LN40A650 40 inch LCD HDTV", price=950.0),
    "cam": Record(id="cam", name="nikon coolpixp6000bk digital camera 13.5mp"),
    "small_tv": Record(id="small_tv", name="Sony Bravia 32 inch LCD HDTV KDL-32L5000"),
}


@pytest.fixture(scope="module")
def features():
    featurizer = PairFeaturizer().fit(LEFT, RIGHT)

    def of(left, right):
        matrix, names = featurizer.transform([(left, right)])
        return dict(zip(names, matrix[0], strict=True))

    return of


def test_model_numbers_match_across_spellings(features):
    f = features("tv", "tv")
    assert f["codes.name_shared"] == 1  # kdl-40v4100 and kdl40v4100 normalise alike
    assert f["codes.left_in_right_text"] == 1
    assert f["codes.conflict"] == 0
    assert f["brand.equal"] == 1


def test_a_code_glued_to_the_series_name_is_found_inside_it(features):
    # 'p6000' on one side, 'coolpixp6000bk' on the other.
    assert features("cam", "cam")["codes.left_in_right_text"] == 1


def test_brand_mismatch_and_code_conflict(features):
    f = features("tv", "other_tv")
    assert f["brand.equal"] == 0
    assert f["brand.left_in_right"] == 0
    assert f["codes.conflict"] == 1
    assert f["codes.name_shared"] == 0


def test_same_brand_other_size_is_a_unit_conflict(features):
    f = features("tv", "small_tv")
    assert f["brand.equal"] == 1
    assert f["numbers.conflicts"] == 1 and f["numbers.shared"] == 0
    assert f["codes.conflict"] == 1


def test_missing_prices_are_unknown_not_different(features):
    f = features("cam", "cam")
    assert math.isnan(f["price.ratio"]) and f["price.count"] == 0
    g = features("tv", "small_tv")
    assert math.isnan(g["price.ratio"]) and g["price.count"] == 1
    h = features("tv", "tv")
    assert h["price.ratio"] == pytest.approx(899 / 999)


def test_the_true_match_is_its_records_best_neighbour(features):
    assert features("cam", "cam")["context.char_name.rank_left"] == 0
    assert features("cam", "cam")["context.char_name.gap_left"] == pytest.approx(0)
    assert features("cam", "tv")["context.char_name.rank_left"] > 0
    assert features("cam", "tv")["context.char_name.gap_left"] < 0
    assert features("tv", "tv")["tfidf.char_name"] > features("tv", "other_tv")["tfidf.char_name"]


def test_brand_column_wins_over_the_first_word():
    left = {"a": Record(id="a", name="Widget Pro WP100", brand="Acme")}
    right = {"b": Record(id="b", name="acme widget pro wp-100", brand="")}
    matrix, names = PairFeaturizer().fit(left, right).transform([("a", "b")])
    f = dict(zip(names, matrix[0], strict=True))
    assert f["brand.left_in_right"] == 1
    assert f["brand.from_column"] == 1
    assert f["codes.name_shared"] == 1


def test_feature_names_match_transform():
    featurizer = PairFeaturizer().fit(LEFT, RIGHT)
    assert featurizer.transform([("tv", "tv")])[1] == feature_names()
    assert featurizer.transform([])[0].shape == (0, len(feature_names()))


def test_codes_leave_out_quantities():
    assert codes("samsung 500gb 1080p hd-dvr5000 4th gen") == {"hddvr5000", "dvr5000"}
    assert quantities(normalize("42'' TV, 500 GB, 13.5 Megapixels")) == {
        (42.0, "in"),
        (500.0, "gb"),
        (13.5, "mp"),
    }
