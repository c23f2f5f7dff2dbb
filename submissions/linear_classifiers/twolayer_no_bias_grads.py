# Bug: TwoLayerNet.loss returns the weight gradients only: grads has no b1 or b2.
import numpy as np


class TwoLayerNet(object):

    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {}
        self.params['W1'] = std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        N, D = X.shape

        # forward pass
        h1 = X @ W1 + b1
        a1 = h1 * (h1 > 0)
        scores = a1 @ W2 + b2
        if y is None:
            return scores

        # loss
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        softmax = exp / exp.sum(axis=1, keepdims=True)
        loss = np.mean(-np.log(softmax[np.arange(N), y]))
        loss += reg * np.sum(W1 ** 2) + reg * np.sum(W2 ** 2)

        # backward pass
        grads = {}
        d_scores = softmax
        d_scores[np.arange(N), y] -= 1
        d_scores /= N
        grads['W2'] = a1.T @ d_scores + 2 * reg * W2
        d_a1 = d_scores @ W2.T
        d_h1 = d_a1 * (h1 > 0)
        grads['W1'] = X.T @ d_h1 + 2 * reg * W1

        return loss, grads
