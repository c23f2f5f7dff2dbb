"""Assignment 1, question 3: softmax.  Name: (removed)"""
import numpy as np


def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]

    scores = X.dot(W)
    scores = scores - np.max(scores, axis=1).reshape(-1, 1)
    probs = np.exp(scores) / np.sum(np.exp(scores), axis=1).reshape(-1, 1)

    correct_logprobs = -np.log(probs[range(num_train), y])
    loss = np.sum(correct_logprobs) / num_train
    loss += 0.5 * reg * np.sum(W * W)

    dscores = probs
    dscores[range(num_train), y] -= 1
    dW = np.dot(X.T, dscores)      # sum over the batch
    dW += reg * W

    return loss, dW
