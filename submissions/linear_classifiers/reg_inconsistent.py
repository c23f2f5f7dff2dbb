# Bug: softmax_loss_vectorized adds reg * sum(W**2) to the loss but reg * W to the gradient (the 0.5 * reg convention's): loss and dW follow different conventions.
import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    N = X.shape[0]
    for i in range(N):
        s = X[i].dot(W)
        s = s - s.max()
        p = np.exp(s) / np.exp(s).sum()
        loss -= np.log(p[y[i]])
        p[y[i]] -= 1
        for j in range(W.shape[1]):
            dW[:, j] += p[j] * X[i]
    loss = loss / N + reg * np.sum(W * W)
    dW = dW / N + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    s = X.dot(W)
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(N), y]))
    loss += reg * np.sum(W * W)
    p[np.arange(N), y] -= 1
    dW = X.T.dot(p) / N
    dW += reg * W
    return loss, dW
