# Correct Python 2 era file: xrange from past.builtins, and a print statement left in softmax_loss_naive (that function cannot be parsed; the others are graded).
import numpy as np
from random import shuffle
from past.builtins import xrange


def svm_loss_naive(W, X, y, reg):
    dW = np.zeros(W.shape)
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in xrange(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in xrange(num_classes):
            if j == y[i]:
                continue
            margin = scores[j] - correct_class_score + 1
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    loss /= num_train
    dW /= num_train
    loss += reg * np.sum(W * W)
    dW += 2 * reg * W
    return loss, dW


def svm_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    correct = scores[xrange(num_train), y]
    margins = np.maximum(0, scores - correct[:, np.newaxis] + 1)
    margins[xrange(num_train), y] = 0
    loss = np.sum(margins) / num_train + reg * np.sum(W * W)
    mask = (margins > 0).astype(float)
    mask[xrange(num_train), y] = -mask.sum(axis=1)
    dW = X.T.dot(mask) / num_train + 2 * reg * W
    return loss, dW


def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    num_train = X.shape[0]
    for i in xrange(num_train):
        scores = X[i].dot(W)
        scores -= np.max(scores)
        probs = np.exp(scores) / np.sum(np.exp(scores))
        loss += -np.log(probs[y[i]])
        probs[y[i]] -= 1
        dW += np.outer(X[i], probs)
    print "softmax loss before regularization:", loss / num_train
    loss = loss / num_train + reg * np.sum(W * W)
    dW = dW / num_train + 2 * reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= scores.max(axis=1)[:, np.newaxis]
    probs = np.exp(scores)
    probs /= probs.sum(axis=1)[:, np.newaxis]
    loss = -np.log(probs[xrange(num_train), y]).sum() / num_train + reg * np.sum(W * W)
    probs[xrange(num_train), y] -= 1
    dW = X.T.dot(probs) / num_train + 2 * reg * W
    return loss, dW
