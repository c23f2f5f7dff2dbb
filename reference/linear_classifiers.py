"""Linear classifiers and a two-layer network (softmax, multiclass SVM): the reference and its gradgrade spec.

Students write softmax_loss_naive/vectorized and svm_loss_naive/vectorized(W, X, y, reg) -> (loss, dW):
scores X @ W for weights W of shape (D, C) and a batch X of shape (N, D) with labels y in 0..C-1, the mean
loss over the N examples plus reg * sum(W**2) (the SVM's margin is 1). They also write
TwoLayerNet(input_size, hidden_size, output_size, std).loss(X, y, reg) -> (loss, grads): affine - ReLU -
affine - softmax, with reg * (sum(W1**2) + sum(W2**2)), the weights in the model's params dict. The older
convention 0.5 * reg * sum(W**2) is accepted too, where a function's loss and its gradient both follow it
(the *_half_reg references below); a rubric's [conventions] table can fix one.
"""
import numpy as np

from grader.spec import Case, Loss, Method, Spec


def softmax_loss_naive(W, X, y, reg):
    """Softmax cross-entropy with explicit loops over the examples and the classes."""
    loss = 0.0
    dW = np.zeros(W.shape)
    num_train = X.shape[0]
    num_classes = W.shape[1]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores = scores - np.max(scores)  # the same probabilities, and exp cannot overflow
        total = np.sum(np.exp(scores))
        loss += np.log(total) - scores[y[i]]
        for j in range(num_classes):
            probability = np.exp(scores[j]) / total
            if j == y[i]:
                dW[:, j] += (probability - 1) * X[i]
            else:
                dW[:, j] += probability * X[i]
    loss = loss / num_train + reg * np.sum(W * W)
    dW = dW / num_train + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    """Softmax cross-entropy without loops."""
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[rows, y])) / num_train + reg * np.sum(W * W)
    dscores = probs
    dscores[rows, y] -= 1
    dW = X.T.dot(dscores) / num_train + 2 * reg * W
    return loss, dW


def svm_loss_naive(W, X, y, reg):
    """Multiclass SVM (hinge) loss with margin 1, with explicit loops."""
    loss = 0.0
    dW = np.zeros(W.shape)
    num_train = X.shape[0]
    num_classes = W.shape[1]
    for i in range(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    loss = loss / num_train + reg * np.sum(W * W)
    dW = dW / num_train + 2 * reg * W
    return loss, dW


def svm_loss_vectorized(W, X, y, reg):
    """Multiclass SVM (hinge) loss with margin 1, without loops."""
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X.dot(W)
    correct = scores[rows, y].reshape(-1, 1)
    margins = np.maximum(0, scores - correct + 1)
    margins[rows, y] = 0
    loss = np.sum(margins) / num_train + reg * np.sum(W * W)
    counts = (margins > 0).astype(float)
    counts[rows, y] = -np.sum(counts, axis=1)
    dW = X.T.dot(counts) / num_train + 2 * reg * W
    return loss, dW


class TwoLayerNet:
    """affine - ReLU - affine - softmax, its weights in self.params (W1 (D, H), b1 (H,), W2 (H, C), b2 (C,))."""

    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        rng = np.random.default_rng(0)
        self.params = {"W1": std * rng.standard_normal((input_size, hidden_size)), "b1": np.zeros(hidden_size),
                       "W2": std * rng.standard_normal((hidden_size, output_size)), "b2": np.zeros(output_size)}

    def loss(self, X, y=None, reg=0.0):
        """The class scores when y is None; else the mean softmax loss plus reg * (sum(W1**2) + sum(W2**2)),
        and the gradients of every parameter."""
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        num_train = X.shape[0]
        hidden = np.maximum(0, X.dot(W1) + b1)
        scores = hidden.dot(W2) + b2
        if y is None:
            return scores
        rows = np.arange(num_train)
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= np.sum(probs, axis=1, keepdims=True)
        loss = -np.sum(np.log(probs[rows, y])) / num_train + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = probs
        dscores[rows, y] -= 1
        dscores /= num_train
        grads = {"W2": hidden.T.dot(dscores) + 2 * reg * W2, "b2": np.sum(dscores, axis=0)}
        dhidden = dscores.dot(W2.T)
        dhidden[hidden <= 0] = 0
        grads["W1"] = X.T.dot(dhidden) + 2 * reg * W1
        grads["b1"] = np.sum(dhidden, axis=0)
        return loss, grads


# The older convention, 0.5 * reg * sum(W**2) with the gradient reg * W: the same functions at half the reg.

def softmax_loss_naive_half_reg(W, X, y, reg):
    """0.5 * reg * sum(W**2), whose gradient is reg * W."""
    return softmax_loss_naive(W, X, y, 0.5 * reg)


def softmax_loss_vectorized_half_reg(W, X, y, reg):
    """0.5 * reg * sum(W**2), whose gradient is reg * W."""
    return softmax_loss_vectorized(W, X, y, 0.5 * reg)


def svm_loss_naive_half_reg(W, X, y, reg):
    """0.5 * reg * sum(W**2), whose gradient is reg * W."""
    return svm_loss_naive(W, X, y, 0.5 * reg)


def svm_loss_vectorized_half_reg(W, X, y, reg):
    """0.5 * reg * sum(W**2), whose gradient is reg * W."""
    return svm_loss_vectorized(W, X, y, 0.5 * reg)


class TwoLayerNetHalfReg(TwoLayerNet):
    """0.5 * reg * (sum(W1**2) + sum(W2**2)), whose gradients are reg * W1 and reg * W2."""

    def loss(self, X, y=None, reg=0.0):
        return TwoLayerNet.loss(self, X, y, 0.5 * reg)


def _labels(rng, N, C):
    """N labels in 0..C-1, every class present when N >= C (and some repeated when N > C)."""
    return rng.permutation(np.arange(N) % C)


def classifier_cases(rng, sizes, *, reg, scale=0.5, spread=1.0, bias=False, shift=0.0):
    """One case per (N, D, C). scale 0.5: scores of order one, so some SVM margins are negative and the
    softmax is far from uniform (the notebook's 1e-4 weights make every margin about 1). bias: X ends with
    a column of ones, the bias trick the course's data uses; shift is added to every class's bias weight,
    so every score is that much larger (750: exp overflows unless the maximum score is subtracted first).
    spread: the features' scale (unnormalised data)."""
    found = []
    for N, D, C in sizes:
        X = spread * rng.standard_normal((N, D))
        W = scale * rng.standard_normal((D, C))
        if bias:
            X[:, -1] = 1.0
            W[-1] += shift
        name = f"N{N}-D{D}-C{C}-reg{reg:g}" + (f"-scores{shift:g}" if shift else "")
        found.append(Case(name, {"W": W, "X": X, "y": _labels(rng, N, C), "reg": reg}))
    return found


def net_cases(rng, sizes, *, reg, scale=0.5, spread=1.0, biases=True):
    """One TwoLayerNet case per (N, D, H, C): the parameters the notebook sets, a batch and its labels.
    biases=False: zero biases, as a freshly built model has them."""
    found = []
    for N, D, H, C in sizes:
        bias = scale if biases else 0.0
        params = {"W1": scale * rng.standard_normal((D, H)), "b1": bias * rng.standard_normal(H),
                  "W2": scale * rng.standard_normal((H, C)), "b2": bias * rng.standard_normal(C)}
        found.append(Case(f"net-N{N}-D{D}-H{H}-C{C}-reg{reg:g}", {"params": params,
                                                                   "X": spread * rng.standard_normal((N, D)),
                                                                   "y": _labels(rng, N, C), "reg": reg}))
    return found


def _net_init(inputs):
    """The notebook's TwoLayerNet(input_size, hidden_size, num_classes, std=1e-1), sized from the case."""
    W1, W2 = inputs["params"]["W1"], inputs["params"]["W2"]
    return {"input_size": W1.shape[0], "hidden_size": W1.shape[1], "output_size": W2.shape[1], "std": 1e-1}


def _losses(*names):
    return [Loss(name, wrt="W", conventions=(f"{name}_half_reg",)) for name in names]


def public_cases(rng):
    """The notebook's checks, small: tiny weights at reg 0, then reg > 0; the toy network (zero biases) at
    reg 0.05."""
    return (classifier_cases(rng, [(5, 4, 3)], reg=0.0, scale=1e-4, bias=True)
            + classifier_cases(rng, [(5, 4, 3)], reg=5.0, scale=1e-4, bias=True)
            + net_cases(rng, [(5, 4, 10, 3)], reg=0.05, scale=0.1, spread=10.0, biases=False))


def hidden_cases(rng):
    """A batch of one, two classes, reg 0 and reg > 0, repeated labels, more features than classes and
    fewer, scores large enough to overflow exp; the network with a batch of one and with biases."""
    return (classifier_cases(rng, [(1, 3, 2)], reg=0.5)
            + classifier_cases(rng, [(7, 5, 3)], reg=0.0)
            + classifier_cases(rng, [(12, 6, 4)], reg=1.5, bias=True)
            + classifier_cases(rng, [(9, 2, 5)], reg=0.25)
            # Features ten times larger keep the numerical gradient's rounding (scores near 750 keep 1e-13 of
            # their digits) a hundred times below the threshold.
            + classifier_cases(rng, [(6, 4, 3)], reg=0.0, scale=0.05, spread=10.0, bias=True, shift=750.0)
            + net_cases(rng, [(1, 3, 4, 2)], reg=0.0)
            + net_cases(rng, [(8, 5, 6, 3)], reg=0.3))


def square_cases(rng):
    """N = D = C (and H): a missing transpose or swapped operands run and must be caught by value."""
    return (classifier_cases(rng, [(4, 4, 4)], reg=0.3) + classifier_cases(rng, [(3, 3, 3)], reg=0.0)
            + net_cases(rng, [(4, 4, 4, 4)], reg=0.2))


SPEC = Spec(
    name="linear_classifiers",
    title="Linear classifiers and a two-layer network (softmax, SVM)",
    functions=[*_losses("svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized"),
               Method("TwoLayerNet", method="loss", wrt="params", init=_net_init, args=("X", "y", "reg"),
                      conventions=("TwoLayerNetHalfReg",))],
    public_cases=public_cases,
    hidden_cases=hidden_cases,
    square_cases=square_cases,
    seed=231,
)
