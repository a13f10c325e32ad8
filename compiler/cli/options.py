"""What every verb shares: one definition of each option, and the checks run before TensorFlow.

A flag means one thing across the command line:

``--set KEY=VALUE``   override a spec value (repeatable)
``--allow-outside``   let the spec (or the spec a model folder was trained from)
                      refer to files outside its own folder; a training run
                      records it, and the verbs that read its folder reapply it
``--out DIR``         the folder that holds ``<name>/`` model folders
``-o, --output FILE`` the one file a verb writes
``-i, --input FILE``  the one file a verb reads examples from
``--backend NAME``    the Keras backend that trains (``training.backend``)
``--distribute HOW``  the engine that spreads training (``training.distribute``)
``--coordinator``, ``--num-workers``, ``--worker-index``
                      this worker's place in a `data_parallel` job of several processes
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import click

from compiler.errors import Location, NNCompileError, Problem
from compiler.model_folder import DEFAULT_ROOT

set_option = click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE",
    help="Override a spec value, e.g. --set training.epochs=5 (repeatable).")

allow_outside_option = click.option(
    "--allow-outside", is_flag=True,
    help="Let the spec refer to files outside its own folder (a model folder remembers it).")

out_option = click.option(
    "--out", "out_root", default=DEFAULT_ROOT, show_default=True,
    type=click.Path(file_okay=False), help="Folder that holds the <name>/ model folders.")


submodel_option = click.option(
    "--submodel", metavar="NAME",
    help="Export the spec's sub-model NAME (under `submodels:`) instead of the whole model.")

backend_option = click.option(
    "--backend", type=click.Choice(["tensorflow", "jax"]), default=None,
    help="Keras backend that trains (same as --set training.backend=NAME).")

distribute_option = click.option(
    "--distribute", type=click.Choice(["none", "mirrored", "data_parallel"]), default=None,
    help="Train on every device (mirrored, TensorFlow) or every device of every worker "
         "(data_parallel, JAX); same as --set training.distribute=HOW.")


def cluster_options(function):
    """``--coordinator``, ``--num-workers``, ``--worker-index``: a worker of a data_parallel job."""
    function = click.option(
        "--worker-index", type=click.IntRange(min=0), default=None,
        help="This worker's index, 0..N-1; worker 0 is the chief, which writes the outputs.",
    )(function)
    function = click.option(
        "--num-workers", type=click.IntRange(min=1), default=None,
        help="Number of worker processes of a data_parallel job.")(function)
    return click.option(
        "--coordinator", metavar="HOST:PORT", default=None,
        help="Address of worker 0 for a data_parallel job of several workers, or 'auto' "
             "(JAX finds the cluster); default: TF_CONFIG, then SLURM_*, else one worker.",
    )(function)


def output_option(help: str, *, required: bool = False, default: str | None = None):
    """``-o/--output FILE``: the file a verb writes (``help`` says which)."""
    return click.option(
        "-o", "--output", "output", required=required, default=default,
        show_default=default is not None, type=click.Path(dir_okay=False), help=help)


def output_folder_option(help: str):
    """``-o/--output DIR``: the result of a verb that writes several files (a folder).

    The same flag as :func:`output_option` (where the verb's result goes); the
    result is a folder only where it is several files (``detect``).
    """
    return click.option("-o", "--output", "output", required=True,
                        type=click.Path(file_okay=False), help=help)


def input_option(help: str):
    """``-i/--input FILE``: the file a verb reads examples from."""
    return click.option("-i", "--input", "input_path", required=True,
                        type=click.Path(dir_okay=False), help=help)


# What `--set` may change for a trained model (evaluate, export of a folder): where the
# data come from and how they are split and batched. The model, its loss and its
# metrics are the trained ones.
_DATA_SETS = ("data.", "data[", "vars.", "training.batch_size", "training.seed")


def data_only_overrides(sets: tuple[str, ...], verb: str) -> list[str]:
    """The ``--set`` values of a verb that runs a trained model; others are usage errors."""
    for item in sets:
        key = item.split("=", 1)[0].strip()
        if not (key.startswith(_DATA_SETS) or key in ("data", "vars")):
            raise click.UsageError(
                f"--set {item}: {verb} uses the trained model as it is, with its own loss "
                "and metrics; --set can change only the data (data.*, vars.*, "
                f"training.batch_size, training.seed). To {verb} another model, train it")
    return list(sets)


def quiet_tensorflow() -> None:
    """Import TensorFlow without its C++ start-up chatter (once the cheap checks passed)."""
    from compiler.tf_runtime import import_tensorflow_quietly

    import_tensorflow_quietly()


def must_exist(path: str, what: str) -> None:
    """Reject a missing file before TensorFlow is imported (seconds) to say so."""
    from compiler.errors import DataError, ModelFileError, SpecError

    if not Path(path).exists():
        error = {"spec": SpecError, "model": ModelFileError, "input": DataError}[what]
        raise error(f"no such {what} file or folder '{path}'")


def check_out_folder(folder: Path) -> None:
    """Refuse, before building, an output folder that is a file (or lies below one)."""
    for part in [folder, *folder.parents]:
        if part.exists():
            if not part.is_dir():
                raise NNCompileError(
                    f"cannot write the model to '{folder}': '{part}' is a file, not a folder; "
                    "move it away or choose another folder with --out")
            return


def write_problem(err: OSError, continue_with: str | None = None,
                  where: Path | str | None = None) -> Problem | None:
    """A located problem for a write that failed because of the machine (full disk,
    read-only folder), or None for any other OSError (a bug: reported as internal).

    Args:
        err: what the write raised.
        continue_with: how to carry on without losing work (a training run's
            backup and its ``--resume`` command), said instead of "run again".
        where: the place to name when the error has no file name.
    """
    from compiler.atomic import IN_THE_WAY_ERRNOS, WRITE_ERRNOS, WriteFailed

    if err.errno not in WRITE_ERRNOS:
        return None
    reason = os.strerror(err.errno)
    if not err.filename:
        detail = " ".join(str(err).split())
        reason = f"{reason} ({detail[:160]})"
    if err.errno == errno.ENOSPC:
        fix, hint = "free some space", "free some space, then run the command again"
    elif err.errno in IN_THE_WAY_ERRNOS:
        fix = "move away what is in the way"
        hint = "something else is in the way there: move it away or choose another folder"
    else:
        fix = "make the folder writable"
        hint = "choose a folder you can write to (--out, -o or --output)"
    # Permission errors may come from reading too; the others only from writing.
    writing = (continue_with is not None or isinstance(err, WriteFailed)
               or err.errno not in (errno.EACCES, errno.EPERM))
    action = "cannot write" if writing else "cannot access"
    text = f"{action}: {reason}; " + (f"{fix}: {continue_with}" if continue_with else hint)
    place = err.filename or where
    return Problem(text, Location(str(place)) if place else Location())
