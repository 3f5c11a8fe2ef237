"""Hostile input, faults and set-up mistakes: each finding of the hostile-input issue."""
