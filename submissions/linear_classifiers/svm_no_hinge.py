# Bug: svm_loss_vectorized drops max(0, .) and sums every margin, negative ones too (loss and dW wrong wherever a margin is negative; the notebook's tiny weights make every margin about 1).
from builtins import range
import numpy as np
from random import shuffle


def svm_loss_naive(W, X, y, reg):
    dW = np.zeros(W.shape)
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        for j in range(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - scores[y[i]] + 1
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    loss = loss / num_train + reg * np.sum(W * W)
    dW = dW / num_train + 2 * reg * W
    return loss, dW


def svm_loss_vectorized(W, X, y, reg):
    num_train, num_classes = X.shape[0], W.shape[1]
    scores = X.dot(W)
    correct_scores = scores[range(num_train), y]
    margins = scores - correct_scores[:, np.newaxis] + 1
    margins[range(num_train), y] = 0
    loss = np.sum(margins) / num_train
    loss += reg * np.sum(W * W)
    coeff = np.ones(margins.shape)
    coeff[range(num_train), y] = -(num_classes - 1)
    dW = X.T.dot(coeff) / num_train
    dW += 2 * reg * W
    return loss, dW
