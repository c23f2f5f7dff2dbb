"""The course's gc_utils helpers, as student notebooks import them (runs inside the sandbox)."""
import numpy as np

_KEYS = ["W1", "b1", "W2", "b2", "W3", "b3"]


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def relu(x):
    return np.maximum(0, x)


def dictionary_to_vector(parameters):
    """Roll the parameters into one column vector; also return the key of every row."""
    keys = []
    vectors = []
    for key in _KEYS:
        vector = np.reshape(parameters[key], (-1, 1))
        keys += [key] * vector.shape[0]
        vectors.append(vector)
    return np.concatenate(vectors, axis=0), keys


_COURSE_PARAMETERS = 47  # the 4-5-3-1 network's W1, b1, W2, b2, W3, b3


def vector_to_dictionary(theta):
    """Unroll a column vector into the parameters; like the course's, it knows only the 4-5-3-1 sizes.

    Given another network's theta, the course's slices it into nonsense and the checker calling it runs to
    the end on that; this one says so at once (gradgrade's square-size probe is the only caller that can).
    """
    size = getattr(theta, "size", _COURSE_PARAMETERS)  # an array's own attribute: this runs per perturbation
    if size != _COURSE_PARAMETERS:
        raise ValueError(f"vector_to_dictionary knows only the course's 4-5-3-1 network ({_COURSE_PARAMETERS} "
                         f"parameters); this theta has {size}")
    return {
        "W1": theta[:20].reshape((5, 4)),
        "b1": theta[20:25].reshape((5, 1)),
        "W2": theta[25:40].reshape((3, 5)),
        "b2": theta[40:43].reshape((3, 1)),
        "W3": theta[43:46].reshape((1, 3)),
        "b3": theta[46:47].reshape((1, 1)),
    }


def gradients_to_vector(gradients):
    """Roll the gradients dW1..db3 into one column vector."""
    return np.concatenate([np.reshape(gradients["d" + key], (-1, 1)) for key in _KEYS], axis=0)
