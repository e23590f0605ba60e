import sys

from ragstore.cli import main

sys.exit(main())
