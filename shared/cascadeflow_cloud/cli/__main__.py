"""``python -m cascadeflow_cloud.cli``"""

import sys

from cascadeflow_cloud.cli import main

sys.exit(main())
