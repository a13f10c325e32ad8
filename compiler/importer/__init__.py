"""`nncompile import`: a Keras model (a `.keras` file or keras.applications.NAME) → a spec."""

from compiler.importer.run import Imported, import_model

__all__ = ["Imported", "import_model"]
