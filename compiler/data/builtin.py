"""Small data sets shipped with scikit-learn: nothing is downloaded.

Names each produces:

============== ===================== ================== ==============
builtin        input                 target             task
============== ===================== ================== ==============
digits         image (8, 8, 1) [0,1] label 0..9         classification
iris           features (4,)         label 0..2         classification
wine           features (13,)        label 0..2         classification
breast_cancer  features (30,)        label 0..1         classification
diabetes       features (10,)        target (1,)        regression
============== ===================== ================== ==============
"""

from __future__ import annotations

import numpy as np

from compiler.data.raw import RawData


def load_builtin(name: str) -> RawData:
    """Load one of the builtin data sets by name (see the module docstring)."""
    from sklearn import datasets

    if name == "digits":
        bunch = datasets.load_digits()
        # Pixels are 0..16 in this set; scaling to [0, 1] matches image folders.
        images = (bunch.images / 16.0).astype(np.float32)[..., None]
        return RawData(
            inputs={"image": images},
            targets={"label": bunch.target.astype(np.int32)},
            task="classification",
            class_names=[str(n) for n in bunch.target_names],
            num_classes=10,
            metadata={"image_size": [8, 8], "color": "grayscale", "scale": "pixels / 16"},
        )
    loader = {
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast_cancer": datasets.load_breast_cancer,
        "diabetes": datasets.load_diabetes,
    }[name]
    bunch = loader()
    features = {"features": bunch.data.astype(np.float32)}
    metadata = {"feature_names": [str(n) for n in bunch.feature_names]}
    if name == "diabetes":
        return RawData(
            inputs=features,
            targets={"target": bunch.target.astype(np.float32)[:, None]},
            task="regression",
            metadata=metadata,
        )
    class_names = [str(n) for n in bunch.target_names]
    return RawData(
        inputs=features,
        targets={"label": bunch.target.astype(np.int32)},
        task="classification",
        class_names=class_names,
        num_classes=len(class_names),
        metadata=metadata,
    )
