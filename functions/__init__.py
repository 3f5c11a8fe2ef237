"""Deployable function handlers: one thin module per function, each calling a job."""
