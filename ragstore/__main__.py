import sys

from ragstore.cli.main import main

sys.exit(main())
