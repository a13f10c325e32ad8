"""Building: a validated spec becomes a Keras functional model (graph, summary, plot)."""
