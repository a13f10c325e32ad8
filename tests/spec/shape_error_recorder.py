"""A pytest plugin: for every SpecError `build` raises, did `validate` find it too?

Loaded with ``-p tests.spec.shape_error_recorder`` by test_validate_shapes.py, which
runs the suite's files of mistakes with it. Each build error that is a shape
mismatch (not Keras refusing a parameter, not the weight budget) is compared with
the problems validation's shape rules found for the same spec; one JSON line per
case goes to the file named by NNCOMPILE_SHAPE_RECORD.
"""

from __future__ import annotations

import json
import os

import compiler.build.graph as graph
from compiler.errors import SpecError

NOT_SHAPES = ("Keras refuses the parameters", "cannot connect the graph", "parameters; a model",
              "would have about", "has no weights to share", "has merge_mode: null",
              "the graph is too deep")
_original = graph._Builder.build


def _recording_build(self):
    try:
        return _original(self)
    except SpecError as err:
        report = getattr(self.spec, "shape_report", None)
        found = [(p.location.line, p.location.col) for p in (report.located if report else [])]
        with open(os.environ["NNCOMPILE_SHAPE_RECORD"], "a", encoding="utf-8") as out:
            for problem in err.problems:
                if any(words in problem.message for words in NOT_SHAPES):
                    continue
                where = (problem.location.line, problem.location.col)
                out.write(json.dumps({"build": str(problem), "validate": where in found,
                                      "validate_said": [str(p) for p in report.located]
                                      if report else []}) + "\n")
        raise


graph._Builder.build = _recording_build
