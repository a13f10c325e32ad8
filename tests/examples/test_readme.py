"""The README's examples are the files in specs/ (which the spec tests run), verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"<!-- example: (\S+) -->\n```yaml\n(.*?)```", README, flags=re.S)


def test_readme_has_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path,text", EXAMPLES, ids=[p for p, _ in EXAMPLES])
def test_readme_example_is_the_file(path, text):
    assert path.startswith("specs/")
    assert (ROOT / path).read_text(encoding="utf-8") == text


def test_every_yaml_block_in_the_readme_is_an_example_or_a_fragment_that_validates(tmp_path):
    """Blocks that are not whole files are `training:`/`data:` fragments: they must validate."""
    from compiler.api import load_spec

    blocks = re.findall(r"```yaml\n(.*?)```", README, flags=re.S)
    whole = {text for _, text in EXAMPLES}
    base = "name: fragment\ninputs: {x: [4]}\nlayers:\n  - dense: {units: 3, name: out}\n"
    for block in blocks:
        if block in whole:
            continue
        if block.startswith(("nncompile:", "name:")):  # a whole (abridged) spec
            (tmp_path / "s.yaml").write_text(block)
            load_spec(tmp_path / "s.yaml")
        elif block.startswith("training:"):
            (tmp_path / "s.yaml").write_text(base + block)
            load_spec(tmp_path / "s.yaml")
        elif block.startswith("export:") or block.startswith("data:"):
            key = block.split(":", 1)[0]
            for line in block.strip().splitlines():
                (tmp_path / "s.yaml").write_text(base + line.split("  #")[0] + "\n")
                if key == "data":
                    (tmp_path / "houses.csv").write_text("area,rooms,city,price\n1,2,a,3\n")
                load_spec(tmp_path / "s.yaml")
        else:
            raise AssertionError("README yaml block is neither an example nor a fragment:\n"
                                 f"{block}")
