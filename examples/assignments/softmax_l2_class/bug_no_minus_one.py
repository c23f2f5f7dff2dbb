import numpy as np


def softmax_loss_vectorized(W, X, y, reg):
    # scores for every example and class
    N = X.shape[0]
    scores = X @ W
    scores -= scores.max(axis=1, keepdims=True)
    exp_scores = np.exp(scores)
    probs = exp_scores / exp_scores.sum(axis=1, keepdims=True)

    loss = np.mean(-np.log(probs[np.arange(N), y])) + 0.5 * reg * np.sum(W ** 2)

    # gradient of the loss with respect to the scores is the probabilities
    dscores = probs / N
    dW = X.T @ dscores + reg * W
    return loss, dW


# quick test
# W = np.random.randn(4, 3) * 0.01; X = np.random.randn(5, 4); y = np.array([0, 1, 2, 1, 0])
# print(softmax_loss_vectorized(W, X, y, 0.1))
