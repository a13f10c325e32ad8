"""Hyper-parameter search over a spec's search spaces (`nncompile tune`), on Optuna."""
