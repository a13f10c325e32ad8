"""`nncompile codegen`: a spec → a plain Keras 3 module that needs no nncompile."""

from compiler.codegen.generate import generate_module

__all__ = ["generate_module"]
