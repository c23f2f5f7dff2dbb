# Correct, vectorised style: one loop over examples in the naive functions, none elsewhere, the older 0.5 * reg * sum(W**2).
import numpy as np


def svm_loss_naive(W, X, y, reg):
    num_train = X.shape[0]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(num_train):
        s = X[i] @ W
        margin = np.maximum(0.0, s - s[y[i]] + 1.0)
        margin[y[i]] = 0.0
        loss += margin.sum()
        active = (margin > 0).astype(W.dtype)
        active[y[i]] = -active.sum()
        dW += np.outer(X[i], active)
    loss = loss / num_train + 0.5 * reg * np.sum(W ** 2)
    dW = dW / num_train + reg * W
    return loss, dW


def svm_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    idx = np.arange(N)
    S = X @ W
    M = S - S[idx, y][:, None] + 1.0
    M[idx, y] = 0.0
    M = np.clip(M, 0.0, None)
    loss = M.sum() / N + 0.5 * reg * (W ** 2).sum()
    G = (M > 0) * 1.0
    G[idx, y] -= G.sum(axis=1)
    dW = X.T @ G / N + reg * W
    return loss, dW


def _softmax(S):
    S = S - S.max(axis=-1, keepdims=True)
    E = np.exp(S)
    return E / E.sum(axis=-1, keepdims=True)


def softmax_loss_naive(W, X, y, reg):
    num_train = X.shape[0]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(num_train):
        p = _softmax(X[i] @ W)
        loss -= np.log(p[y[i]])
        p[y[i]] -= 1.0
        dW += np.outer(X[i], p)
    loss = loss / num_train + 0.5 * reg * np.sum(W ** 2)
    dW = dW / num_train + reg * W
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    N, C = X.shape[0], W.shape[1]
    P = _softmax(X @ W)
    Y = np.eye(C)[y]  # one-hot labels
    loss = -np.sum(Y * np.log(P)) / N + 0.5 * reg * np.sum(W ** 2)
    dW = X.T @ (P - Y) / N + reg * W
    return loss, dW


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {
            'W1': std * np.random.randn(input_size, hidden_size),
            'b1': np.zeros(hidden_size),
            'W2': std * np.random.randn(hidden_size, output_size),
            'b2': np.zeros(output_size),
        }

    def loss(self, X, y=None, reg=0.0):
        p = self.params
        H = np.maximum(X @ p['W1'] + p['b1'], 0)
        scores = H @ p['W2'] + p['b2']
        if y is None:
            return scores
        N, C = scores.shape
        P = _softmax(scores)
        Y = np.eye(C)[y]
        loss = -np.sum(Y * np.log(P)) / N
        loss += 0.5 * reg * (np.sum(p['W1'] ** 2) + np.sum(p['W2'] ** 2))
        dS = (P - Y) / N
        dH = (dS @ p['W2'].T) * (H > 0)
        grads = {
            'W1': X.T @ dH + reg * p['W1'],
            'b1': dH.sum(axis=0),
            'W2': H.T @ dS + reg * p['W2'],
            'b2': dS.sum(axis=0),
        }
        return loss, grads
