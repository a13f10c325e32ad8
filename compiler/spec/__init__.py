"""Spec loading, resolving and validation. Nothing here imports TensorFlow."""
