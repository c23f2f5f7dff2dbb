import numpy as np


def softmax_loss_vectorized(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    #############################################################################
    # TODO: Compute the softmax loss and its gradient using no explicit loops.  #
    #############################################################################
    N = X.shape[0]
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    p = np.exp(scores)
    p /= np.sum(p, axis=1, keepdims=True)
    loss = -np.sum(np.log(p[np.arange(N), y])) / N
    loss += 0.5 * reg * np.sum(W * W)

    p[np.arange(N), y] -= 1
    dW = X.T.dot(p) / N
    dW += 2 * reg * W          # derivative of reg * W^2
    #############################################################################
    #                          END OF YOUR CODE                                 #
    #############################################################################
    return loss, dW
