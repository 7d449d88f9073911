import sys

from dermsim.cli import main

sys.exit(main())
