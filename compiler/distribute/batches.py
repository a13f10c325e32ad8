"""The global batch of the spec spread over workers and devices."""

from __future__ import annotations

from dataclasses import dataclass

from compiler.errors import SpecError


@dataclass(frozen=True)
class BatchPlan:
    """How one global batch (`training.batch_size`) is split.

    Attributes:
        global_batch: Examples per optimiser step, over all replicas.
        workers: Worker processes.
        devices_per_worker: Replicas (devices) in each worker process.
    """

    global_batch: int
    workers: int = 1
    devices_per_worker: int = 1

    @property
    def replicas(self) -> int:
        """Devices that each compute the gradient of one slice of a batch."""
        return self.workers * self.devices_per_worker

    @property
    def per_worker(self) -> int:
        """Examples each worker process reads per step."""
        return self.global_batch // self.workers

    @property
    def per_replica(self) -> int:
        """Examples each device computes per step."""
        return self.global_batch // self.replicas

    def check(self, where=None) -> BatchPlan:
        """Refuse a global batch that does not split evenly over the replicas.

        Raises:
            SpecError: located at `training.batch_size`, with the nearest sizes that split.
        """
        if self.global_batch % self.replicas:
            low = self.global_batch // self.replicas * self.replicas
            high = low + self.replicas
            nearest = f"{low} or {high}" if low else f"{high}"
            raise SpecError(
                f"batch_size {self.global_batch} does not split over {self.replicas} replicas "
                f"({self.workers} worker(s) × {self.devices_per_worker} device(s)); "
                f"use a multiple of {self.replicas}, e.g. {nearest}",
                where,
            )
        return self

    def last_batch(self, examples: int) -> tuple[int, int]:
        """(examples in the last step, examples left out) of an epoch of `examples`.

        The last batch of an epoch is cut to a multiple of the replicas, because
        every replica computes on a slice of the same size; at most
        ``replicas - 1`` examples sit out an epoch, and shuffling picks others
        each epoch.
        """
        rest = examples % self.global_batch
        kept = rest - rest % self.replicas
        return kept, rest - kept

    def steps(self, examples: int) -> int:
        """Optimiser steps in an epoch of `examples` training examples."""
        kept, _ = self.last_batch(examples)
        return examples // self.global_batch + (1 if kept else 0)

    def describe(self) -> str:
        """One line for the console."""
        return (f"global batch {self.global_batch} = {self.workers} worker(s) × "
                f"{self.per_worker} = {self.replicas} replica(s) × {self.per_replica}")
