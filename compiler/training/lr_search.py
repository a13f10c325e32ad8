"""`nncompile lr-find` on a spec: data, model and loss from the spec, then the range test."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from compiler.training.lr_find import RangeTest, plot_range_test, range_test


def find_learning_rate(
    spec_path: str | Path,
    *,
    start: float = 1e-5,
    end: float = 10.0,
    steps: int = 200,
    overrides: Sequence[str] = (),
    plot: str | Path | None = None,
) -> RangeTest:
    """Run the learning-rate range test for the model and data of a spec.

    The spec's optimiser is used at a constant rate (its schedule is
    ignored); its `seed` makes the test repeatable.
    """
    from compiler.api import build_model
    from compiler.data.pipeline import load_data
    from compiler.training.compile import compile_args
    from compiler.training.prepare import (
        adapt_normalization,
        check_embedding_ids,
        check_targets_fit_outputs,
    )
    from compiler.training.run import load_spec_for_training, set_seed, steps_in

    spec = load_spec_for_training(spec_path, overrides)
    training = spec.training
    set_seed(training.seed)
    bundle = load_data(spec, batch_size=training.batch_size, seed=training.seed)
    model = build_model(spec)
    if bundle.task in ("classification", "binary", "sequence_labeling", "seq2seq"):
        from compiler.data.bundle import check_labels
        from compiler.training.evaluation import output_classes

        check_labels(bundle, output_classes(model), spec.locate("outputs"))
    check_targets_fit_outputs(spec, bundle, model)  # Keras would fail inside the first batch
    check_embedding_ids(spec, bundle)
    adapt_normalization(model, bundle.arrays["train"][0])
    args = compile_args(
        spec, model, steps_in(bundle.train, bundle.size("train"), training.batch_size),
        with_schedule=False,
    )
    result = range_test(model, args, bundle.train, start, end, steps)
    if plot is not None:
        plot_range_test(plot, result)
    return result
