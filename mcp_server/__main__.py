"""`python -m mcp_server` runs the baas-mcp command."""

import sys

from .cli import main

sys.exit(main())
