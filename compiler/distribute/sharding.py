"""Each worker's slice of every global batch (tf.data, on any Keras backend).

Worker i of N takes rows ``[i·b/N, (i+1)·b/N)`` of each global batch of b
examples, so the global batch the replicas see together is exactly the batch
a single process would train on: the same examples, in the same order (the
shuffle is seeded alike on every worker). Every example of the training
split is read by exactly one worker per epoch, except that the last batch is
cut to a multiple of the replicas (see :meth:`BatchPlan.last_batch`).
"""

from __future__ import annotations

from compiler.distribute.batches import BatchPlan


def shard_batches(dataset, plan: BatchPlan, worker_index: int, examples: int):
    """The batches of `dataset` this worker feeds to ``fit``.

    Args:
        dataset: The batched training data (batches of ``plan.global_batch``).
        plan: How the global batch splits.
        worker_index: This worker's index.
        examples: Training examples per epoch (to know the last batch's size).

    Returns:
        A dataset of ``plan.steps(examples)`` batches of this worker's rows.
    """
    import tensorflow as tf

    workers, replicas = plan.workers, plan.replicas

    def mine(*batch):
        size = tf.shape(tf.nest.flatten(batch)[0])[0]
        kept = size - size % replicas
        part = kept // workers
        start = worker_index * part
        sliced = tf.nest.map_structure(lambda t: t[start:start + part], batch)
        return sliced if len(sliced) > 1 else sliced[0]

    # take() keeps the number of batches known, which Keras and the resume
    # logic read; it drops a last batch too small to give every replica a row.
    return dataset.take(plan.steps(examples)).map(mine, num_parallel_calls=tf.data.AUTOTUNE,
                                                  deterministic=True)
