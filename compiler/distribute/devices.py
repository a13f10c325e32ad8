"""Splitting one CPU into several devices, so that both engines can be tried on a laptop.

Keras's own tests run MirroredStrategy on two logical CPU devices; JAX does
the same with ``--xla_force_host_platform_device_count``. Both must happen
before the framework looks for its devices.
"""

from __future__ import annotations

import os


def split_cpu_for_tensorflow(count: int) -> None:
    """Give TensorFlow `count` logical CPU devices (before TensorFlow initialises)."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])


def split_cpu_for_jax(count: int) -> None:
    """Give JAX `count` CPU devices in this process (before JAX initialises)."""
    flag = f"--xla_force_host_platform_device_count={count}"
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()
