"""Who the workers are: the command line, TF_CONFIG, Slurm; and how a batch splits over them."""

from __future__ import annotations

import json
import re

import pytest

from compiler.distribute.batches import BatchPlan
from compiler.distribute.cluster import Cluster, discover, from_tf_config
from compiler.errors import NNCompileError, SpecError, UsageError


def test_the_flags_name_the_cluster_and_win_over_the_environment():
    env = {"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1", "b:1"]},
                                    "task": {"type": "worker", "index": 1}})}
    cluster = discover("10.0.0.1:1234", 3, 2, environ=env)
    assert cluster == Cluster("10.0.0.1:1234", 3, 2, "the command line")
    assert not cluster.is_chief and cluster.multi_process


@pytest.mark.parametrize(("flags", "says"), [
    (("h:1", 2, None), "missing --worker-index"),
    ((None, 2, 0), "missing --coordinator"),
    (("h:1", 2, 2), "--worker-index 2 is not a worker of --num-workers 2 (0..1)"),
    (("nohost", 2, 0), "expected host:port"),
    (("auto", 2, None), "leave out --num-workers"),
])
def test_incomplete_or_contradictory_flags_are_usage_errors(flags, says):
    with pytest.raises(UsageError, match=re.escape(says)):
        discover(*flags, environ={})


def test_auto_leaves_the_cluster_to_jax_and_one_worker_needs_no_coordinator():
    assert discover("auto", environ={}) == Cluster(None, None, None, "JAX's cluster detection")
    assert not discover(None, 1, None, environ={}).multi_process
    assert discover(environ={}) == Cluster()


def test_tf_config_with_a_chief_makes_the_chief_worker_0():
    config = {"cluster": {"chief": ["c:2222"], "worker": ["w0:2222", "w1:2222"]},
              "task": {"type": "worker", "index": 1}}
    cluster = from_tf_config(json.dumps(config))
    assert (cluster.coordinator, cluster.num_workers, cluster.worker_index) == ("c:2222", 3, 2)
    config["task"] = {"type": "chief", "index": 0}
    assert from_tf_config(json.dumps(config)).is_chief


def test_tf_config_without_a_chief_makes_worker_0_the_coordinator():
    text = json.dumps({"cluster": {"worker": ["w0:9", "w1:9"]}, "task": {"type": "worker",
                                                                          "index": 0}})
    assert discover(environ={"TF_CONFIG": text}) == Cluster("w0:9", 2, 0, "TF_CONFIG")


@pytest.mark.parametrize(("text", "says"), [
    ("{not json", "not JSON"),
    ('{"task": {}}', "no `cluster` mapping"),
    ('{"cluster": {"worker": ["a:1"], "ps": ["p:1"]}}', "a `ps` task has no place"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}',
     "the task worker 3 is not in the cluster"),
])
def test_a_broken_tf_config_says_what_is_wrong(text, says):
    with pytest.raises(NNCompileError, match=f"TF_CONFIG: {says}"):
        from_tf_config(text)


def test_slurm_gives_the_tasks_and_jax_finds_the_coordinator():
    env = {"SLURM_JOB_ID": "7", "SLURM_NTASKS": "4", "SLURM_PROCID": "3"}
    assert discover(environ=env) == Cluster(None, 4, 3, "Slurm")
    assert not discover(environ={**env, "SLURM_NTASKS": "1", "SLURM_PROCID": "0"}).multi_process


def test_the_global_batch_splits_per_worker_and_per_replica():
    plan = BatchPlan(64, workers=2, devices_per_worker=4).check()
    assert (plan.replicas, plan.per_worker, plan.per_replica) == (8, 32, 8)
    assert plan.describe() == "global batch 64 = 2 worker(s) × 32 = 8 replica(s) × 8"
    # 150 examples: two full batches, then 22 cut to 16 (a multiple of 8 replicas).
    assert plan.last_batch(150) == (16, 6)
    assert plan.steps(150) == 3
    assert BatchPlan(16, 2).last_batch(90) == (10, 0)
    assert BatchPlan(16, 4).steps(3) == 0


def test_a_global_batch_that_does_not_split_names_the_sizes_that_do():
    with pytest.raises(SpecError, match="batch_size 30 does not split over 4 replicas .*"
                                        "e.g. 28 or 32"):
        BatchPlan(30, workers=2, devices_per_worker=2).check()
