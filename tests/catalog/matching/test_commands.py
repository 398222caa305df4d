import re

import pytest

from portal.catalog.matching import model as matcher_model

from .synthetic import write_benchmark

FINAL_LINE = re.compile(r"^precision (0|1)\.\d{4} recall (0|1)\.\d{4} f1 (0|1)\.\d{4}$")


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory):
    return write_benchmark(tmp_path_factory.mktemp("bench") / "synthetic")


def test_evaluate_ends_with_the_figure(app, benchmark):
    result = app.test_cli_runner().invoke(args=["catalog", "evaluate", str(benchmark)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert FINAL_LINE.match(lines[-1]), lines[-1]
    # The generated pairs are easy: a matcher that works gets them nearly all.
    f1 = float(lines[-1].split()[-1])
    assert f1 > 0.8
    # Columns were read under their other names.
    assert "name=title" in result.output and "brand=manufacturer" in result.output


def test_train_writes_a_model_that_loads(app, benchmark, tmp_path):
    out = tmp_path / "model.joblib"
    result = app.test_cli_runner().invoke(
        args=["catalog", "train", str(benchmark), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    model = matcher_model.load(out)
    assert model.kind in matcher_model.CANDIDATES
    assert str(out) in result.output


def test_a_directory_without_the_layout_is_a_clear_error(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["catalog", "evaluate", str(tmp_path)])
    assert result.exit_code != 0
    assert "tableA.csv is missing" in result.output
