"""Mutations of a parsed YAML tree (a spec) drawn with Hypothesis.

A mutation picks one node of the tree and changes it the way a user's mistake
would: another value (zero, negative, huge, NaN, text, null, a wrong type),
another kind of node (mapping, list, scalar), a deleted, renamed or swapped
entry, a reference to a layer that does not exist, or a broken `$` expression.
The tree is then written back as YAML text; `duplicate_a_key` works on that
text, because a parsed tree cannot hold a key twice.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml
from hypothesis import strategies as st

Path = tuple[Any, ...]

WEIRD_NUMBERS = [0, -1, -7, 1, 2, 3, 10**12, 2**63, -(2**31), 1e308, -0.5, 0.5, 1e-9,
                 float("nan"), float("inf"), float("-inf")]
WEIRD_STRINGS = ["", " ", "relu", "same", "valid", "none", "null", "auto", "x" * 300, "é∂ü",
                 "64a", "1e3", "[1, 2]", "{a: 1}", "nan", "-1", "0x10", "~", "true"]
BROKEN_EXPRESSIONS = ["$", "$hiden", "$a *", "$hidden / 0", "$hidden // 0", "$hidden % 0",
                      "$hidden ** 99", "2 ** 1000", "($hidden", "$hidden)", "$hidden * * 2",
                      "$units / 0", "${hidden}", "$$hidden", "$hidden.x", "$1", "$ hidden",
                      "10 / 3", "-$hidden", "$hidden - $hidden", "__import__('os')",
                      "$features * 1e400", "1 / (2 - 2)"]
MISSING_NAMES = ["nowhere", "", "Dense", "image ", "0", "inputs", "outputs"]

scalars = st.one_of(
    st.sampled_from(WEIRD_NUMBERS),
    st.sampled_from(WEIRD_STRINGS),
    st.sampled_from(BROKEN_EXPRESSIONS),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
small_nodes = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["units", "filters", "name", "inputs", "shape", "x", "rate", "kernel"])
        | st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def all_paths(tree: Any, prefix: Path = ()) -> list[Path]:
    """Every node's path (keys and indices from the root), the root first."""
    paths = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            paths.extend(all_paths(value, (*prefix, key)))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            paths.extend(all_paths(value, (*prefix, index)))
    return paths


def _get(tree: Any, path: Path) -> Any:
    for part in path:
        tree = tree[part]
    return tree


def _set(tree: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    _get(tree, path[:-1])[path[-1]] = value
    return tree


def _names(tree: Any) -> list[str]:
    """Strings in the tree that look like layer or input names (to misspell or swap)."""
    found = []
    for path in all_paths(tree):
        node = _get(tree, path)
        if isinstance(node, str) and re.fullmatch(r"[a-z_][a-z0-9_]{0,30}", node):
            found.append(node)
    return found


@st.composite
def mutated_tree(draw: st.DrawFn, tree: Any, max_mutations: int = 3,
                 within: list[Path] | None = None) -> Any:
    """A copy of ``tree`` with one to ``max_mutations`` mutations applied.

    Args:
        tree: the parsed spec.
        max_mutations: most mutations applied one after the other.
        within: mutate only nodes under these paths (default: anywhere).
    """
    tree = copy.deepcopy(tree)
    for _ in range(draw(st.integers(min_value=1, max_value=max_mutations))):
        tree = draw(_one_mutation(tree, within))
    return tree


@st.composite
def _one_mutation(draw: st.DrawFn, tree: Any, within: list[Path] | None) -> Any:
    paths = [p for p in all_paths(tree)
             if within is None or any(p[:len(root)] == root for root in within)]
    if not paths:  # an earlier mutation removed the part being mutated
        return tree
    path = draw(st.sampled_from(paths))
    node = _get(tree, path)
    kind = draw(st.sampled_from([
        "value", "value", "node", "retype", "delete", "swap", "reference", "expression",
        "rename_key",
    ]))
    if kind == "value":
        return _set(tree, path, draw(scalars))
    if kind == "node":
        return _set(tree, path, draw(small_nodes))
    if kind == "retype":
        if isinstance(node, dict):
            new = draw(st.sampled_from([list(node.values()), list(node.keys()), next(
                iter(node.values()), None)]))
        elif isinstance(node, list):
            new = draw(st.sampled_from([{str(i): v for i, v in enumerate(node)},
                                        node[0] if node else None, {"x": node}]))
        else:
            new = draw(st.sampled_from([[node], {str(node): node}, {"units": node}, str(node)]))
        return _set(tree, path, new)
    if kind == "delete" and path:
        parent = _get(tree, path[:-1])
        del parent[path[-1]]
        return tree
    if kind == "swap":
        lists = [p for p in paths if isinstance(_get(tree, p), list) and len(_get(tree, p)) > 1]
        if lists:
            items = _get(tree, draw(st.sampled_from(lists)))
            i = draw(st.integers(0, len(items) - 1))
            j = draw(st.integers(0, len(items) - 1))
            items[i], items[j] = items[j], items[i]
        return tree
    if kind == "reference":
        # A reference (`inputs:`, `outputs:`, `from`, a shared layer) naming
        # something that is missing, or another existing name.
        names = _names(tree) or ["x"]
        target = draw(st.sampled_from(MISSING_NAMES) | st.sampled_from(names)
                      | st.sampled_from(names).map(lambda n: n + "_typo"))
        refs = [p for p in paths if p and p[-1] in ("inputs", "outputs", "input", "from")]
        if refs:
            ref = draw(st.sampled_from(refs))
            value = _get(tree, ref)
            if isinstance(value, list) and value:
                value[draw(st.integers(0, len(value) - 1))] = target
            else:
                _set(tree, ref, draw(st.sampled_from([target, [target], {target: [4]}])))
        return tree
    if kind == "expression":
        exprs = [p for p in paths if isinstance(_get(tree, p), str) and "$" in _get(tree, p)]
        where = draw(st.sampled_from(exprs)) if exprs else path
        broken = draw(st.sampled_from(BROKEN_EXPRESSIONS) | st.sampled_from(
            [str(_get(tree, where)) + " *", str(_get(tree, where)).replace("$", "$_"),
             str(_get(tree, where)) + " / 0"]))
        return _set(tree, where, broken)
    if kind == "rename_key" and isinstance(node, dict) and node:
        key = draw(st.sampled_from(list(node)))
        new_key = draw(st.sampled_from([f"{key}s", str(key)[:-1], str(key).upper(), "",
                                        "layers", "inputs", "name"]))
        node[new_key] = node.pop(key)
    return tree


def dump(tree: Any) -> str:
    """YAML text of a tree (any key or value a mutation made)."""
    return yaml.safe_dump(tree, sort_keys=False, allow_unicode=True, width=1000)


@st.composite
def duplicate_a_key(draw: st.DrawFn, text: str) -> str:
    """``text`` with one `key:` line written twice (the second after the first)."""
    lines = text.splitlines()
    keyed = [i for i, line in enumerate(lines) if re.match(r"^\s*(- )?[\w$]+:", line)]
    if not keyed:
        return text
    i = draw(st.sampled_from(keyed))
    copy_of = re.sub(r"^(\s*)- ", r"\1  ", lines[i])  # a list item's first key, re-indented
    lines.insert(i + 1, copy_of)
    return "\n".join(lines) + "\n"
