"""Schema of the `training:` section: loss, metrics, optimiser, schedule, callbacks.

Imports no TensorFlow, so `nncompile validate` stays fast. The Keras objects
are built from these models by the sibling modules (``optimizers.py``,
``schedules.py``, ``losses.py``, ``metrics.py``, ``callbacks.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, field_validator, model_validator

from compiler.data.files import FileReference
from compiler.detection.options import YoloLossParams
from compiler.distribute.choices import Backend, Distribute, Precision, combination_problem
from compiler.errors import did_you_mean
from compiler.spec.base import StrictModel
from compiler.training.choices import NoParams, single_key_choice

PositiveFloat = Annotated[float, Field(gt=0)]
UnitInterval = Annotated[float, Field(ge=0, lt=1)]


# --------------------------------------------------------------------------- optimisers
class OptimizerParams(StrictModel):
    """Parameters every optimiser accepts."""

    learning_rate: PositiveFloat = 1e-3
    """Initial learning rate η0 (a schedule starts from it)."""
    clipnorm: PositiveFloat | None = None
    """Clip each gradient tensor to this L2 norm."""
    clipvalue: PositiveFloat | None = None
    """Clip each gradient element to [-clipvalue, clipvalue]."""
    global_clipnorm: PositiveFloat | None = None
    """Clip all gradients together to this global L2 norm."""

    @model_validator(mode="after")
    def _one_clip(self) -> OptimizerParams:
        if self.clipnorm is not None and self.global_clipnorm is not None:
            raise ValueError("give either `clipnorm` or `global_clipnorm`, not both")
        return self


class SGDParams(OptimizerParams):
    """Stochastic gradient descent, optionally with (Nesterov) momentum."""

    learning_rate: PositiveFloat = 0.01
    """Initial learning rate η0."""
    momentum: UnitInterval = 0.0
    """Momentum β in [0, 1)."""
    nesterov: bool = False
    """Use Nesterov momentum."""


class RMSpropParams(OptimizerParams):
    """RMSprop: divide by a decaying average of squared gradients."""

    rho: UnitInterval = 0.9
    """Decay of the squared-gradient average."""
    momentum: UnitInterval = 0.0
    """Momentum β in [0, 1)."""
    epsilon: PositiveFloat = 1e-7
    """Small constant for numerical stability."""


class AdagradParams(OptimizerParams):
    """Adagrad: per-parameter rates from accumulated squared gradients."""

    initial_accumulator_value: PositiveFloat = 0.1
    """Starting value of the accumulators."""
    epsilon: PositiveFloat = 1e-7
    """Small constant for numerical stability."""


class AdamParams(OptimizerParams):
    """Adam: momentum plus RMSprop with bias correction."""

    beta_1: UnitInterval = 0.9
    """Decay of the first-moment estimate."""
    beta_2: UnitInterval = 0.999
    """Decay of the second-moment estimate."""
    epsilon: PositiveFloat = 1e-7
    """Small constant for numerical stability."""
    amsgrad: bool = False
    """Use the AMSGrad variant."""


class AdamWParams(AdamParams):
    """Adam with decoupled weight decay."""

    weight_decay: Annotated[float, Field(ge=0)] = 0.004
    """Decoupled weight decay coefficient."""


class AdamaxParams(OptimizerParams):
    """Adamax: Adam with the infinity norm."""

    beta_1: UnitInterval = 0.9
    """Decay of the first-moment estimate."""
    beta_2: UnitInterval = 0.999
    """Decay of the weighted infinity norm."""
    epsilon: PositiveFloat = 1e-7
    """Small constant for numerical stability."""


class NadamParams(AdamaxParams):
    """Adam with Nesterov momentum."""


OPTIMIZERS: dict[str, type[StrictModel]] = {
    "sgd": SGDParams,
    "rmsprop": RMSpropParams,
    "adagrad": AdagradParams,
    "adam": AdamParams,
    "adamw": AdamWParams,
    "adamax": AdamaxParams,
    "nadam": NadamParams,
}
OptimizerChoice = single_key_choice("optimizer", OPTIMIZERS)


# --------------------------------------------------------------------------- schedules
class InverseTimeParams(StrictModel):
    """η = η0 / (1 + decay · epoch)."""

    decay: Annotated[float, Field(ge=0)] = 0.1
    """Decay rate per epoch."""


class StepDecayParams(StrictModel):
    """η = η0 · factor ^ floor(epoch / every)."""

    factor: Annotated[float, Field(gt=0, le=1)] = 0.9
    """Multiplier applied every `every` epochs."""
    every: Annotated[int, Field(ge=1)] = 5
    """Number of epochs between two decays."""


class ExponentialParams(StrictModel):
    """η = η0 · rate ^ epoch."""

    rate: Annotated[float, Field(gt=0, le=1)] = 0.96
    """Multiplier per epoch."""


class CosineParams(StrictModel):
    """η = min_lr + ½ (η0 − min_lr)(1 + cos(π · min(epoch, epochs) / epochs))."""

    epochs: Annotated[int, Field(ge=1)] | None = None
    """Length of the cosine in epochs (default: the training epochs)."""
    min_lr: Annotated[float, Field(ge=0)] = 0.0
    """Final learning rate."""


class ReduceOnPlateauParams(StrictModel):
    """Multiply η by `factor` when `monitor` has not improved for `patience` epochs."""

    factor: Annotated[float, Field(gt=0, lt=1)] = 0.5
    """Multiplier applied on a plateau."""
    patience: Annotated[int, Field(ge=0)] = 3
    """Epochs without improvement before reducing."""
    monitor: str = "val_loss"
    """Logged quantity to watch."""
    min_lr: Annotated[float, Field(ge=0)] = 0.0
    """Lower bound on the learning rate."""


AFTER_WARMUP: dict[str, type[StrictModel]] = {
    "inverse_time": InverseTimeParams,
    "step_decay": StepDecayParams,
    "exponential": ExponentialParams,
    "cosine": CosineParams,
}
AfterWarmupChoice = single_key_choice("schedule", AFTER_WARMUP, "AfterWarmupChoice")


class WarmupParams(StrictModel):
    """Linear warm-up η0 · (step + 1) / warmup_steps, then `then` (or constant η0)."""

    epochs: Annotated[int, Field(ge=1)] = 1
    """Length of the warm-up in epochs."""
    then: AfterWarmupChoice | None = None
    """Schedule that follows, counting epochs from the end of the warm-up."""


SCHEDULES: dict[str, type[StrictModel]] = {
    **AFTER_WARMUP,
    "warmup": WarmupParams,
    "reduce_on_plateau": ReduceOnPlateauParams,
}
ScheduleChoice = single_key_choice("schedule", SCHEDULES)


# --------------------------------------------------------------------------- losses
class CrossentropyParams(StrictModel):
    """Cross-entropy options."""

    from_logits: bool = False
    """The model outputs logits rather than probabilities."""
    label_smoothing: Annotated[float, Field(ge=0, lt=1)] = 0.0
    """Label smoothing amount."""


class SparseCrossentropyParams(StrictModel):
    """Sparse cross-entropy options."""

    from_logits: bool = False
    """The model outputs logits rather than probabilities."""


class HuberParams(StrictModel):
    """Huber loss: quadratic below `delta`, linear above."""

    delta: PositiveFloat = 1.0
    """Where the loss turns from quadratic to linear."""


class ContrastiveParams(StrictModel):
    """Contrastive loss y·d² + (1 − y)·max(margin − d, 0)² on distances d."""

    margin: PositiveFloat = 1.0
    """Distance beyond which dissimilar pairs cost nothing."""


class CTCParams(StrictModel):
    """CTC loss of per-step logits (batch, steps, classes) against padded label sequences."""

    blank: Annotated[int, Field(ge=0)] = 0
    """Index of CTC's blank class."""
    pad: int = 0
    """Label value that pads the targets; label lengths count the others."""


LOSSES: dict[str, type[StrictModel]] = {
    "mse": NoParams,
    "mae": NoParams,
    "huber": HuberParams,
    "binary_crossentropy": CrossentropyParams,
    "categorical_crossentropy": CrossentropyParams,
    "sparse_categorical_crossentropy": SparseCrossentropyParams,
    "contrastive": ContrastiveParams,
    "ctc": CTCParams,
    "yolo": YoloLossParams,
}
LossChoice = single_key_choice("loss", LOSSES)


# --------------------------------------------------------------------------- metrics
class TopKParams(StrictModel):
    """Top-k categorical accuracy."""

    k: Annotated[int, Field(ge=1)] = 5
    """How many of the highest scores count as a hit."""


class F1Params(StrictModel):
    """F1 score."""

    average: Literal["macro", "micro", "weighted"] = "macro"
    """How per-class scores are combined."""


METRICS: dict[str, type[StrictModel]] = {
    "accuracy": NoParams,
    "precision": NoParams,
    "recall": NoParams,
    "f1": F1Params,
    "auc": NoParams,
    "mae": NoParams,
    "mse": NoParams,
    "rmse": NoParams,
    "top_k": TopKParams,
}
MetricChoice = single_key_choice("metric", METRICS)


# --------------------------------------------------------------------------- callbacks
class EarlyStoppingParams(StrictModel):
    """Stop when `monitor` stops improving."""

    monitor: str = "val_loss"
    """Logged quantity to watch."""
    patience: Annotated[int, Field(ge=0)] = 5
    """Epochs without improvement before stopping."""
    min_delta: Annotated[float, Field(ge=0)] = 0.0
    """Smallest change that counts as an improvement."""
    mode: Literal["auto", "min", "max"] = "auto"
    """Whether lower or higher is better (auto: from the name)."""
    restore_best: bool = True
    """Put back the weights of the best epoch when training ends."""


class CheckpointParams(StrictModel):
    """Save the model to `checkpoints/` during training."""

    monitor: str = "val_loss"
    """Logged quantity deciding which model is best."""
    save_best_only: bool = True
    """Keep only `best.keras`; otherwise also one file per epoch."""
    mode: Literal["auto", "min", "max"] = "auto"
    """Whether lower or higher is better (auto: from the name)."""


class TensorBoardParams(StrictModel):
    """Write TensorBoard logs to `logs/`."""

    histogram_freq: Annotated[int, Field(ge=0)] = 0
    """Epochs between weight histograms (0: none)."""


CALLBACKS: dict[str, type[StrictModel]] = {
    "early_stopping": EarlyStoppingParams,
    "checkpoint": CheckpointParams,
    "tensorboard": TensorBoardParams,
    "csv_logger": NoParams,
}
CallbackChoice = single_key_choice("callback", CALLBACKS)


class BackupParams(StrictModel):
    """How often `backup/` is written, so that `--resume` after a crash loses little work."""

    every_steps: Annotated[int, Field(ge=1)] | None = None
    """Also back up every N training steps within an epoch (default: only at each epoch's end);
    a run killed mid-epoch then redoes at most N steps on `--resume`."""

    @field_validator("every_steps", mode="before")
    @classmethod
    def _no_bool(cls, value: Any) -> Any:
        # The base check lets a bool through an optional number; `every_steps: true` is a slip.
        if isinstance(value, bool):
            raise ValueError(f"expected a whole number, got {str(value).lower()}")
        return value


class InitFrom(StrictModel):
    """Copy weights from a trained model, layer by layer, by name (transfer learning)."""

    model: str
    """Path of a `.keras` file (relative: the working folder, then the spec's), kept under
    the spec's folder unless --allow-outside."""
    layers: list[str] | None = None
    """Layer names to copy; default: every layer whose name appears in both models."""


def _looks_like_single_loss(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, dict) and len(value) == 1:
        name, params = next(iter(value.items()))
        if name in LOSSES:
            return True
        # `{out: mse}` or `{out: {huber: {...}}}` is per-output; `{hubr: {delta: 1}}` a typo.
        if isinstance(params, str):
            return False
        if isinstance(params, dict) and len(params) == 1 and next(iter(params)) in LOSSES:
            return False
        return True
    return False


class TrainingSpec(StrictModel):
    """How to fit the model: loss, metrics, optimiser, schedule, callbacks, run options."""

    loss: LossChoice | dict[str, LossChoice]
    """Loss name or `{name: {params}}`; or a mapping from output name to loss."""
    loss_weights: dict[str, Annotated[float, Field(ge=0)]] | None = None
    """Weight of each output's loss in the total (several outputs only)."""
    metrics: list[MetricChoice] | dict[str, list[MetricChoice]] = Field(default_factory=list)
    """Metrics for every output, or a mapping from output name to metrics."""
    optimizer: OptimizerChoice = Field(default_factory=lambda: OptimizerChoice(adam=AdamParams()))
    """Optimiser `{name: {learning_rate: ..., ...}}`; default adam."""
    schedule: ScheduleChoice | None = None
    """Learning-rate schedule (epochs count from 0)."""
    batch_size: Annotated[int, Field(ge=1)] = 32
    """Examples per gradient step."""
    epochs: Annotated[int, Field(ge=1)] = 10
    """Number of passes over the training data."""
    class_weight: dict[int, PositiveFloat] | Literal["balanced"] | None = None
    """Weight per class index, or `balanced` (n / (classes · count))."""
    callbacks: list[CallbackChoice] = Field(default_factory=list)
    """Extra callbacks: early_stopping, checkpoint, tensorboard, csv_logger."""

    @field_validator("callbacks", mode="before")
    @classmethod
    def _no_callbacks(cls, value):
        return [] if value is None else value  # `callbacks: null` (or empty) means none
    init_from: InitFrom | None = None
    """Start from the weights of another trained model."""
    backup: BackupParams = Field(default_factory=BackupParams)
    """How often the resumable backup is written: `{every_steps: N}` (default: every epoch)."""

    @field_validator("backup", mode="before")
    @classmethod
    def _default_backup(cls, value):
        return {} if value is None else value  # `backup: null` means the default
    jit_compile: bool | Literal["auto"] = "auto"
    """XLA compilation: true, false, or auto (time both and keep the faster)."""
    seed: int | None = None
    """Seed for weights, shuffling and dropout; also makes ops deterministic."""
    distribute: Distribute = "none"
    """Train on many devices: `mirrored` (every device of this machine, TensorFlow) or
    `data_parallel` (every device of every worker process, JAX); `batch_size` stays the
    global batch."""
    backend: Backend | None = None
    """Keras backend that trains: tensorflow or jax (default: what `distribute` needs,
    else tensorflow). Export always runs on TensorFlow."""
    precision: Precision = "float32"
    """float32, or mixed_float16 / mixed_bfloat16: layers compute in 16 bits with float32
    weights; the output layers and the losses stay float32 (float16 with loss scaling)."""

    @field_validator("distribute", mode="after")
    @classmethod
    def _distribute_built(cls, value: str) -> str:
        problem = combination_problem(None, value)
        if problem is not None:
            raise ValueError(problem[1])
        return value

    @field_validator("backend", mode="after")
    @classmethod
    def _backend_fits_engine(cls, value: str | None, info) -> str | None:
        problem = combination_problem(value, info.data.get("distribute", "none"))
        if problem is not None:
            raise ValueError(problem[1])
        return value

    @field_validator("loss", mode="before")
    @classmethod
    def _loss_form(cls, value: Any) -> Any:
        # Decide the form first, so a typo gets one clear message instead of
        # the errors of both union branches.
        if _looks_like_single_loss(value):
            return LossChoice.model_validate(value)
        if isinstance(value, dict):
            return _PER_OUTPUT_LOSSES.validate_python(value)
        raise ValueError(f"expected a loss name or a mapping, got {value!r}")

    # The validators below pick the form of a union field before validating,
    # so errors carry the YAML path instead of pydantic's union member names.
    @field_validator("metrics", mode="before")
    @classmethod
    def _metrics_form(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return _PER_OUTPUT_METRICS.validate_python(value)
        if isinstance(value, (str, list)):
            return _METRIC_LIST.validate_python([value] if isinstance(value, str) else value)
        raise ValueError(f"expected a list of metrics or a mapping per output, got {value!r}")

    @field_validator("class_weight", mode="before")
    @classmethod
    def _class_weight_form(cls, value: Any) -> Any:
        if isinstance(value, str) and value != "balanced":
            raise ValueError(
                f"unknown class_weight '{value}'{did_you_mean(value, ['balanced'])}; "
                "expected 'balanced' or a mapping from class index to weight"
            )
        if isinstance(value, dict):
            return _CLASS_WEIGHTS.validate_python(value)
        return value

    @field_validator("jit_compile", mode="before")
    @classmethod
    def _jit_form(cls, value: Any) -> Any:
        if (value not in (True, False, "auto")
                or isinstance(value, (int, float)) and not isinstance(value, bool)):
            raise ValueError(f"expected true, false or auto, got {value!r}")
        return value

    def file_references(self) -> list[FileReference]:
        """The files this section names: the trained model `init_from` copies weights from."""
        if self.init_from is None:
            return []
        return [FileReference(("init_from", "model"), self.init_from.model, kind="model")]


_PER_OUTPUT_LOSSES = TypeAdapter(dict[str, LossChoice])
_METRIC_LIST = TypeAdapter(list[MetricChoice])
_PER_OUTPUT_METRICS = TypeAdapter(dict[str, list[MetricChoice]])
_CLASS_WEIGHTS = TypeAdapter(dict[int, PositiveFloat])
