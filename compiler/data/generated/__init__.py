"""Synthetic tasks generated from a seed: the same seed gives the same examples.

Names each task produces (inputs → targets):

=========== ============================================ ===================== =================
task        inputs                                       targets               task kind
=========== ============================================ ===================== =================
adding      sequence (length, 2) float32                 sum (1,) float32      regression
parity      bits (max_length,) int32: 1=0-bit 2=1-bit    parity () int32 0/1   classification
            0=padding
tagging     tokens (length,) int32 in 1..9               tags (length,) int32  sequence_labeling
dates       encoder_input (29,), decoder_input (11,)     decoder_target (11,)  seq2seq
addition    encoder_input (2·length+1,),                 decoder_target        seq2seq
            decoder_input (length+2,)                    (length+2,)
digit_pairs image_a (8, 8, 1), image_b (8, 8, 1)         same (1,) float32 0/1 binary
char_text   chars (length,) int32                        next_char () int32    classification
shapes      image (size, size, 3) float32                boxes (4, 5) float32  detection
            circles, squares, triangles                  (class, cx, cy, w, h)
=========== ============================================ ===================== =================

Sequence-to-sequence tasks put their vocabularies and the ids of the start
and stop tokens in metadata (``input_vocabulary``, ``output_vocabulary``,
``start_id``, ``stop_id``, ``pad_id`` = 0).
"""

from __future__ import annotations

from collections.abc import Callable

from compiler.data.raw import RawData
from compiler.data.schema import GenerateSource


def generate(options: GenerateSource) -> RawData:
    """Generate ``options.samples`` examples of ``options.task`` with ``options.seed``."""
    from compiler.data.generated import char_text, pairs, seq2seq, sequences, shapes

    makers: dict[str, Callable[[GenerateSource], RawData]] = {
        "adding": sequences.adding,
        "parity": sequences.parity,
        "tagging": sequences.tagging,
        "dates": seq2seq.dates,
        "addition": seq2seq.addition,
        "digit_pairs": pairs.digit_pairs,
        "char_text": char_text.char_text,
        "shapes": shapes.shapes,
    }
    if options.task != "shapes":
        given = [name for name in ("size", "augment") if getattr(options, name) is not None]
        if given:
            raise ValueError(f"`{given[0]}` applies to the detection task `shapes` only, not to "
                             f"`{options.task}`")
    return makers[options.task](options)
