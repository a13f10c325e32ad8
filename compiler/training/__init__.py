"""The `training:` section of a spec. Schema modules import no TensorFlow."""
