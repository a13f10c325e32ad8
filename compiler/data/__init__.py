"""The `data:` section of a spec. Schema modules import no TensorFlow."""
