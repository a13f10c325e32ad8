"""`nncompile plot`: a real PNG or SVG picture of the graph, through the CLI."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.helpers import run_cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

CHAIN = """\
nncompile: 1
name: chain
inputs: {image: {shape: [8, 8, 1]}}
layers:
  - conv2d: {filters: 2, kernel: 3, padding: same, activation: relu, name: conv_alpha}
  - max_pool2d: {pool: 2}
  - flatten
  - dense: {units: 3, name: final_dense}
outputs: [final_dense]
"""

MERGE = """\
nncompile: 1
name: merge_graph
inputs:
  a: {shape: [4]}
  b: {shape: [4]}
layers:
  - dense: {units: 3, name: left_tower, inputs: a}
  - dense: {units: 3, name: right_tower, inputs: b}
  - add: {inputs: [left_tower, right_tower], name: summed}
  - concatenate: {inputs: [summed, a], name: joined}
  - dense: {units: 1, name: out}
outputs: [out]
"""

SPECS = {"chain": (CHAIN, ["conv_alpha", "final_dense"]),
         "merge": (MERGE, ["left_tower", "right_tower", "summed", "joined"])}


def plot(tmp_path, text: str, picture: str):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    out = tmp_path / picture
    result = run_cli("plot", spec, "-o", out)
    return result, out


@pytest.mark.parametrize("graph", sorted(SPECS))
def test_png(tmp_path, graph):
    import matplotlib.image

    result, out = plot(tmp_path, SPECS[graph][0], "graph.png")
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    assert out.read_bytes()[:8] == PNG_MAGIC
    pixels = matplotlib.image.imread(out)
    assert pixels.ndim == 3 and pixels.shape[0] > 0 and pixels.shape[1] > 0
    assert pixels.min() < pixels.max()  # something is drawn


@pytest.mark.parametrize("graph", sorted(SPECS))
def test_svg(tmp_path, graph):
    text, names = SPECS[graph]
    result, out = plot(tmp_path, text, "graph.svg")
    assert result.exit_code == 0, result.output
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    assert len(list(root.iter())) > 10
    svg = out.read_text(encoding="utf-8")
    # matplotlib writes text as glyph paths by default; the labels are also kept as comments
    for name in names:
        assert name in svg, f"layer '{name}' is not drawn"


def test_plot_into_new_folder(tmp_path):
    result, out = plot(tmp_path, CHAIN, "pictures/sub/graph.png")
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_unsupported_extension_is_usage_error(tmp_path):
    result, out = plot(tmp_path, CHAIN, "graph.jpg")
    assert result.exit_code == 2
    assert ".png or .svg" in result.output
    assert "graph.jpg" in result.output
    assert not out.exists()


def test_bad_spec_exits_1_with_location(tmp_path):
    result, out = plot(tmp_path, CHAIN.replace("units: 3", "unitz: 3"), "graph.png")
    assert result.exit_code == 1
    assert "unitz" in result.output
    assert "spec.yaml:" in result.output
    assert not out.exists()


SKIP_AND_STATES = """\
nncompile: 1
name: skips
inputs: {seq: [6, 3]}
layers:
  - lstm: {units: 4, return_sequences: true, return_state: true, name: enc}
  - lstm: {units: 4, return_sequences: true, inputs: [enc, "enc[1]", "enc[2]"], name: dec}
  - dense: {units: 4, name: mid1}
  - dense: {units: 4, name: mid2}
  - add: {inputs: [dec, mid2], name: res}
"""


def test_skip_connections_and_parallel_inputs_stay_visible(tmp_path):
    # A skip connection was drawn straight through the boxes it skips, and the
    # three inputs enc, enc[1], enc[2] of one layer were three identical arrows.
    from compiler.api import load_spec
    from compiler.build.plot import BOX_H, BOX_W, _crossings, _edges, _layout

    (tmp_path / "spec.yaml").write_text(SKIP_AND_STATES, encoding="utf-8")
    spec = load_spec(tmp_path / "spec.yaml")
    depth, _, pos = _layout(spec)
    edges = _edges(spec, depth, pos, BOX_W, BOX_H)
    into_dec = [e for e in edges if e.dst == "dec"]
    assert sorted(e.label for e in into_dec) == ["", "[1]", "[2]"]
    assert len({e.end for e in into_dec}) == 3
    (skip,) = [e for e in edges if (e.src, e.dst) == ("dec", "res")]
    between = [pos[name] for name in ("mid1", "mid2")]
    assert skip.rad != 0 and _crossings(skip.start, skip.end, skip.rad, between, BOX_W, BOX_H) == 0
    result, out = plot(tmp_path, SKIP_AND_STATES, "graph.png")
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == PNG_MAGIC
