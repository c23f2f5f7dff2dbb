# Bug: the softmax exponentiates the scores without subtracting their maximum first: exp overflows when scores pass about 709 (the loss becomes nan); right otherwise.
import numpy as np


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    num_train = X.shape[0]
    num_classes = W.shape[1]
    for i in range(num_train):
        scores = X[i].dot(W)
        exp_scores = np.exp(scores)
        total = np.sum(exp_scores)
        loss += -np.log(exp_scores[y[i]] / total)
        for j in range(num_classes):
            dW[:, j] += exp_scores[j] / total * X[i]
        dW[:, y[i]] -= X[i]
    loss /= num_train
    loss += reg * np.sum(W * W)
    dW /= num_train
    dW += 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    exp_scores = np.exp(X.dot(W))
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(num_train), y])) / num_train
    loss += reg * np.sum(W * W)
    probs[np.arange(num_train), y] -= 1
    dW = X.T.dot(probs) / num_train + 2 * reg * W
    return loss, dW
