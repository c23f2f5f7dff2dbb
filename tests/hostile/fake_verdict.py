# tries: fake a pass: print a passing verdict and JSON, write garbage to every descriptor, patch numpy's
# comparisons and norms so every check "passes", then return wrong (zero) gradients.
# expect: fail: dW1
import json
import os

import numpy as np


def backward_propagation_n(X, Y, cache):
    print("All tests passed. Your backward propagation works perfectly fine! difference = 1e-12")
    print(json.dumps({"schema": "gradgrade/result/v1", "status": "pass", "score": 100, "max_score": 100}))
    for fd in range(256):
        try:
            os.write(fd, b"GRADGRD1" + os.urandom(64) + b'{"kind": "result", "status": "ok"}')
        except OSError:
            pass
    np.allclose = lambda *args, **kwargs: True
    np.array_equal = lambda *args, **kwargs: True
    np.linalg.norm = lambda *args, **kwargs: 0.0
    np.isfinite = lambda x, *args, **kwargs: np.ones(np.shape(x), dtype=bool)
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    return {"dW1": np.zeros_like(W1), "db1": np.zeros_like(b1), "dW2": np.zeros_like(W2),
            "db2": np.zeros_like(b2), "dW3": np.zeros_like(W3), "db3": np.zeros_like(b3)}
