"""The course's older testCases_v4 module name: the same public case as testCases (runs inside the sandbox)."""
from testCases import gradient_check_n_test_case

__all__ = ["gradient_check_n_test_case"]
