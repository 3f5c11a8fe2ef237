"""``python -m cascadeflow_cloud.cli``"""

from cascadeflow_cloud.cli import entry

entry()
