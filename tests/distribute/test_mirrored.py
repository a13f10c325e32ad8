"""`distribute: mirrored` on two logical CPU devices trains to the weights of one device."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import IRIS, write_training_spec

# Logical devices must be made before TensorFlow initialises: a process of its own.
SCRIPT = textwrap.dedent("""
    import json, sys
    from compiler.cli.options import quiet_tensorflow
    quiet_tensorflow()
    from compiler.distribute.devices import split_cpu_for_tensorflow
    split_cpu_for_tensorflow(2)
    import numpy as np
    from compiler.api import load_spec
    from compiler.training.run import train_spec
    lines, weights = [], {}
    for how in ("mirrored", "none"):
        # TensorFlow rewrites the input pipeline for the replicas, and its seeded
        # shuffle then draws another order: the engine's arithmetic is compared
        # on one order.
        spec = load_spec(sys.argv[1], [f"training.distribute={how}", "export=[]",
                                       "data.shuffle=false"])
        result = train_spec(spec, out_root=sys.argv[2] + "/" + how, verbose=0,
                            echo=lines.append)
        weights[how] = result.model.get_weights()
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(*weights.values()))
    print(json.dumps({"diff": diff, "lines": lines}))
""")


@pytest.mark.slow
def test_mirrored_on_two_devices_ends_with_the_weights_of_one_device(tmp_path):
    # 90 training examples in batches of 16: the last batch (10) splits 5 + 5.
    spec = write_training_spec(tmp_path, IRIS, epochs=1)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(spec), str(tmp_path)],
                          capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["lines"][1:3] == [
        "distribute mirrored on 2 device(s): /job:localhost/replica:0/task:0/device:CPU:0, "
        "/job:localhost/replica:0/task:0/device:CPU:1",
        "global batch 16 = 1 worker(s) × 16 = 2 replica(s) × 8"], report["lines"]
    assert report["diff"] < 1e-5, report
