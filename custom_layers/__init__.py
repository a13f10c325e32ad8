"""Keras layers the seeds need and Keras lacks.

Importing this package registers every layer (and the losses, metrics and
learning-rate schedules a saved model's training configuration names) under the
``nncompile`` package name, which is enough to load a saved ``.keras`` file that
uses them.
"""

from custom_layers import (  # noqa: F401  (training objects a saved model names)
    activations,  # noqa: F401  (registers `step`)
    losses,
    metrics,
    schedules,
)
from custom_layers.additive_attention import BahdanauAttention
from custom_layers.attention_decoder import AttentionDecoder
from custom_layers.cast import Cast
from custom_layers.channel_padding import ChannelPadding
from custom_layers.ctc_loss import CTCLoss
from custom_layers.maxout import Maxout
from custom_layers.minimal_gru import MinimalGRU
from custom_layers.minimal_gru_cell import MinimalGRUCell
from custom_layers.pairwise_distance import PairwiseDistance
from custom_layers.position_embedding import PositionEmbedding
from custom_layers.sampling import Sampling
from custom_layers.yolo_loss import YoloLoss

__all__ = [
    "AttentionDecoder",
    "BahdanauAttention",
    "Cast",
    "CTCLoss",
    "ChannelPadding",
    "Maxout",
    "MinimalGRU",
    "MinimalGRUCell",
    "PairwiseDistance",
    "PositionEmbedding",
    "Sampling",
    "YoloLoss",
]
