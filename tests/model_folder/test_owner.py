"""compiler/model_folder.py owns saved_models/<name>/: no other module builds a path
inside a model folder or loads a model file.

The check reads the source of every module (with `ast`, so comments and
docstrings do not count) for the folder's file names used as path parts and for
calls of Keras's loaders. It is checked on a planted example first, so it is
known to catch what it looks for.
"""

from __future__ import annotations

import ast

from tests.helpers import REPO_ROOT

OWNER = REPO_ROOT / "compiler" / "model_folder.py"
FOLDER_NAMES = {
    "model.keras", "spec.resolved.yaml", "run.json", "metrics.json", "metadata.json",
    "history.csv", "training_curves.png", "confusion_matrix.png", "worst_examples.csv",
    "model.tflite", "backup", "checkpoints", "logs",
}
LOADERS = {"load_model"}  # keras.saving.load_model, keras.models.load_model, tf.keras...
KERAS_MODULES = {"keras", "saving", "models"}


def violations(source: str, name: str = "<source>") -> list[str]:
    """Where ``source`` joins a folder file name onto a path or calls a Keras loader."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            right = node.right
            if (isinstance(right, ast.Constant) and isinstance(right.value, str)
                    and right.value in FOLDER_NAMES and id(right) not in docstrings):
                found.append(f"{name}:{node.lineno}: path / {right.value!r}")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in LOADERS:
                owner = func.value
                module = (owner.attr if isinstance(owner, ast.Attribute)
                          else getattr(owner, "id", ""))
                if module in KERAS_MODULES:
                    found.append(f"{name}:{node.lineno}: {module}.{func.attr}(...)")
            elif isinstance(func, ast.Name) and func.id in LOADERS:
                found.append(f"{name}:{node.lineno}: {func.id}(...)")
    return found


def test_the_check_catches_a_path_into_the_folder_and_a_loader():
    planted = (
        "import keras\n"
        "def f(folder):\n"
        "    '''Reads folder / 'model.keras' (a docstring: not counted).'''\n"
        "    path = folder / 'metrics.json'\n"
        "    return keras.saving.load_model(folder / 'model.keras')\n"
    )
    assert sorted(violations(planted)) == [
        "<source>:4: path / 'metrics.json'",
        "<source>:5: path / 'model.keras'",
        "<source>:5: saving.load_model(...)",
    ]
    # A model folder's own method of that name is the owner's door, not Keras's.
    assert violations("def f(folder):\n    return folder.load_model()\n") == []


def test_no_module_but_the_owner_reaches_into_a_model_folder():
    modules = sorted((REPO_ROOT / "compiler").rglob("*.py"))
    assert OWNER in modules and len(modules) > 20
    found = []
    for path in modules:
        if path != OWNER:
            found += violations(path.read_text(encoding="utf-8"),
                                str(path.relative_to(REPO_ROOT)))
    assert found == [], "\n".join(found)


def test_the_owner_does_what_the_others_may_not():
    # The owner itself must show up, or the check would pass by finding nothing anywhere.
    assert violations(OWNER.read_text(encoding="utf-8"))
