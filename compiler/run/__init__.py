"""Running a trained model folder: evaluate, predict, translate."""
