"""nncompile: a declarative model compiler for Keras 3 on TensorFlow.

Importing this package must stay cheap: TensorFlow and Keras are imported
only inside the functions that build, train or export a model.
"""

__version__ = "0.1.0"
