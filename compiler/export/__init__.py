"""The `export:` section of a spec. Schema modules import no TensorFlow."""
