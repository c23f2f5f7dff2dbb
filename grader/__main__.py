"""`python -m grader` runs the gradgrade command line."""
import sys

from grader.cli import main

sys.exit(main())
