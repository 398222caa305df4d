"""``flask catalog ...``: train and measure the matcher's scoring model (no database needed)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

catalog_cli = AppGroup("catalog", help="The unified catalog's matcher.")
# scikit-learn and LightGBM are imported inside the commands: every app start registers this
# group, and only these commands need them.


def _dataset(directory: str):
    from . import evaluate as benchmarks

    try:
        return benchmarks.load_benchmark(directory, splits=("train", "valid"))
    except (benchmarks.BenchmarkError, ValueError, KeyError) as error:
        raise click.ClickException(str(error)) from error


@catalog_cli.command("train")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Model file to write (default: CATALOG_MATCHER_MODEL).",
)
def train_command(dataset: str, out: str | None) -> None:
    """Train on DATASET's train.csv, choose model and thresholds on valid.csv, write the model."""
    from . import evaluate as benchmarks

    benchmark = _dataset(dataset)
    model = benchmarks.train_model(benchmark)
    path = model.save(out or current_app.config["CATALOG_MATCHER_MODEL"])
    valid = model.metrics["valid"]
    t = model.thresholds
    click.echo(
        f"Model {model.kind} written to {path}: valid precision {valid['precision']:.4f}"
        f" recall {valid['recall']:.4f} f1 {valid['f1']:.4f}; thresholds decision"
        f" {t.decision:.4f}, auto-map {t.auto_map:.4f}, new master below {t.new_master:.4f}."
    )


@catalog_cli.command("evaluate")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--ablation",
    is_flag=True,
    help="Also retrain per model kind and without each feature group (slower).",
)
def evaluate_command(dataset: str, ablation: bool) -> None:
    """Train on train, threshold on valid, score test; the last line is the figure."""
    from . import evaluate as benchmarks

    try:
        benchmarks.evaluate(dataset, click.echo, ablation=ablation)
    except (benchmarks.BenchmarkError, ValueError, KeyError) as error:
        raise click.ClickException(str(error)) from error
