"""The use cases, one module per job; CLI commands and ``functions/`` handlers call these.

Each job takes its collaborators (store, clients) as arguments and returns a summary that says
what happened, so handlers stay a few lines and tests drive jobs directly.
"""
