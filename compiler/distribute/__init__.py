"""Training on many devices and machines, on Keras's own distribution engines.

Two engines, chosen by `training.distribute`:

``mirrored``       every device of one machine, TensorFlow backend,
                   ``fit`` under ``tf.distribute.MirroredStrategy``;
``data_parallel``  every device of every worker process, JAX backend,
                   ``fit`` under ``keras.distribution.DataParallel`` after
                   ``jax.distributed.initialize``.

The modules: ``choices`` (the spec's values, no TensorFlow), ``cluster``
(who the workers are: flags, TF_CONFIG, SLURM, JAX's detection), ``backend``
(KERAS_BACKEND, fixed before Keras is imported), ``batches`` (global,
per-worker and per-replica batch), ``sharding`` (each worker's slice of every
global batch), ``engine`` (the strategy or distribution around build and fit),
``watchdog`` (a lost worker stops the others), ``precision`` (mixed
precision policies), ``worker_folder`` (only the chief writes),
``export_child`` (a JAX run's exports, made in a TensorFlow process).
"""
