"""The loss and regularisation families on softmax, SVM and two-layer-net losses written the ways students write them.

Every style's gradient is checked against the numerical gradient of its own loss first; each mutant
then has to be exactly the bug it names.
"""
from __future__ import annotations

import numpy as np
import pytest

from operator_styles import changed_lines, compiled, differs, mutants

SOFTMAX_INDICATOR = '''
def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    num_train, num_classes = X.shape[0], W.shape[1]
    for i in range(num_train):
        scores = X[i].dot(W)
        scores -= np.max(scores)
        p = np.exp(scores) / np.sum(np.exp(scores))
        loss += -np.log(p[y[i]])
        for j in range(num_classes):
            dW[:, j] += (p[j] - (j == y[i])) * X[i]
    loss = loss / num_train + 0.5 * reg * np.sum(W * W)
    dW = dW / num_train + reg * W
    return loss, dW
'''

SOFTMAX_BRANCH = '''
def softmax_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros(W.shape)
    N = X.shape[0]
    C = W.shape[1]
    for i in range(N):
        f = X[i] @ W
        f = f - f.max()
        probs = np.exp(f) / np.exp(f).sum()
        loss -= np.log(probs[y[i]])
        for j in range(C):
            if j == y[i]:
                dW[:, j] += (probs[j] - 1) * X[i]
            else:
                dW[:, j] += probs[j] * X[i]
    loss /= N
    dW /= N
    loss += reg * np.sum(W ** 2)
    dW += 2 * reg * W
    return loss, dW
'''

SOFTMAX_OUTER = '''
def softmax_loss_naive(W, X, y, reg):
    dW = np.zeros_like(W)
    loss = 0.0
    for i in range(X.shape[0]):
        s = X[i].dot(W)
        p = np.exp(s - s.max())
        p /= p.sum()
        loss += -np.log(p[y[i]])
        dW += np.outer(X[i], p)
        dW[:, y[i]] -= X[i]
    loss = loss / X.shape[0] + reg * np.sum(W * W)
    dW = dW / X.shape[0] + 2 * reg * W
    return loss, dW
'''

SOFTMAX_VECTORIZED = '''
def softmax_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = X.dot(W)
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).sum() / N + 0.5 * reg * np.sum(W * W)
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dW = X.T.dot(dscores) / N + reg * W
    return loss, dW
'''

SOFTMAX_ONE_HOT = '''
def softmax_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    logits = X @ W
    logits = logits - np.max(logits, axis=1, keepdims=True)
    probs = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
    one_hot = np.zeros_like(probs)
    one_hot[np.arange(num_train), y] = 1
    loss = -np.sum(one_hot * np.log(probs)) / num_train + reg * np.sum(W * W)
    dW = X.T @ (probs - one_hot) / num_train + 2 * reg * W
    return loss, dW
'''

SVM_CONTINUE = '''
def svm_loss_naive(W, X, y, reg):
    dW = np.zeros(W.shape)
    num_classes = W.shape[1]
    num_train = X.shape[0]
    loss = 0.0
    for i in range(num_train):
        scores = X[i].dot(W)
        correct_class_score = scores[y[i]]
        for j in range(num_classes):
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
'''

SVM_NOT_EQUAL = '''
def svm_loss_naive(W, X, y, reg):
    loss = 0.0
    dW = np.zeros_like(W)
    N = X.shape[0]
    for i in range(N):
        s = X[i] @ W
        for j in range(W.shape[1]):
            if j != y[i]:
                margin = s[j] - s[y[i]] + 1
                if margin > 0:
                    loss += margin
                    dW[:, j] += X[i]
                    dW[:, y[i]] -= X[i]
    loss = loss / N + 0.5 * reg * np.sum(W * W)
    dW = dW / N + reg * W
    return loss, dW
'''

SVM_VECTORIZED = '''
def svm_loss_vectorized(W, X, y, reg):
    num_train = X.shape[0]
    scores = X.dot(W)
    correct = scores[np.arange(num_train), y].reshape(-1, 1)
    margins = np.maximum(0, scores - correct + 1)
    margins[np.arange(num_train), y] = 0
    loss = np.sum(margins) / num_train + reg * np.sum(W * W)
    binary = (margins > 0).astype(float)
    binary[np.arange(num_train), y] = -np.sum(binary, axis=1)
    dW = X.T.dot(binary) / num_train + 2 * reg * W
    return loss, dW
'''

SVM_CLAMPED = '''
def svm_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = X @ W
    margins = scores - scores[np.arange(N), y][:, None] + 1
    margins[np.arange(N), y] = 0
    margins[margins < 0] = 0
    loss = margins.sum() / N + 0.5 * reg * np.sum(W ** 2)
    counts = (margins > 0).astype(W.dtype)
    counts[np.arange(N), y] -= counts.sum(axis=1)
    dW = X.T @ counts / N + reg * W
    return loss, dW
'''

TWO_LAYER_NET = '''
class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, std=0.1, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {'W1': std * rng.standard_normal((input_size, hidden_size)), 'b1': np.zeros(hidden_size),
                       'W2': std * rng.standard_normal((hidden_size, output_size)), 'b2': np.zeros(output_size)}

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        N = X.shape[0]
        hidden = np.maximum(0, X.dot(W1) + b1)
        scores = hidden.dot(W2) + b2
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(N), y]).mean() + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = probs
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads = {'W2': hidden.T.dot(dscores) + 2 * reg * W2, 'b2': dscores.sum(axis=0)}
        dhidden = dscores.dot(W2.T) * (hidden > 0)
        grads['W1'] = X.T.dot(dhidden) + 2 * reg * self.params['W1']
        grads['b1'] = dhidden.sum(axis=0)
        return loss, grads
'''

SOFTMAX = {"indicator": SOFTMAX_INDICATOR, "branch": SOFTMAX_BRANCH, "outer": SOFTMAX_OUTER,
           "vectorized": SOFTMAX_VECTORIZED, "one-hot": SOFTMAX_ONE_HOT}
SVM = {"continue": SVM_CONTINUE, "not-equal": SVM_NOT_EQUAL, "vectorized": SVM_VECTORIZED, "clamped": SVM_CLAMPED}
REG = 0.3


def function(source):
    name = next(word for word in ("softmax_loss_naive", "softmax_loss_vectorized", "svm_loss_naive",
                                  "svm_loss_vectorized") if f"def {word}(" in source)
    return compiled(source, name)


def case(*, seed=3, N=9, D=5, C=4):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((D, C)), rng.standard_normal((N, D)), rng.permutation(np.arange(N) % C), REG


def numerical(loss, W, X, y, reg, epsilon=1e-6):
    gradient = np.zeros_like(W)
    for index in np.ndindex(W.shape):
        plus, minus = W.copy(), W.copy()
        plus[index] += epsilon
        minus[index] -= epsilon
        gradient[index] = (loss(plus, X, y, reg)[0] - loss(minus, X, y, reg)[0]) / (2 * epsilon)
    return gradient


@pytest.mark.parametrize("source", [*SOFTMAX.values(), *SVM.values()], ids=[*SOFTMAX, *(f"svm-{k}" for k in SVM)])
def test_every_classifier_style_is_a_correct_loss_and_gradient(source):
    loss = function(source)
    W, X, y, reg = case()
    np.testing.assert_allclose(loss(W, X, y, reg)[1], numerical(loss, W, X, y, reg), rtol=1e-6, atol=1e-8)


def probabilities(W, X):
    scores = X @ W
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("source", SOFTMAX.values(), ids=SOFTMAX.keys())
def test_the_softmax_gradient_without_the_minus_1_is_x_times_probs(source):
    found = mutants(source, "softmax-drop-correct-class")
    assert len(found) == 1
    W, X, y, reg = case()
    reference, mutant = function(source), function(found[0])
    assert mutant(W, X, y, reg)[0] == pytest.approx(reference(W, X, y, reg)[0])
    regularisation = reference(W, X, y, reg)[1] - reference(W, X, y, 0.0)[1]
    np.testing.assert_allclose(mutant(W, X, y, reg)[1], X.T @ probabilities(W, X) / len(y) + regularisation)


def test_the_svm_correct_class_term_is_not_taken_for_softmax():
    for source in SVM.values():
        assert mutants(source, "softmax-drop-correct-class") == []


# Whether each mutant changes the gradient too. In the loops the correct class's +X[i] and -X[i] cancel, and
# counts[y] -= counts.sum() takes its own 1 back: only the loss shows it there. The vectorised styles also
# get the loss alone counting it (the gradient built apart from the summed margins, as many students do).
@pytest.mark.parametrize(("source", "gradient_changes"), [(SVM_CONTINUE, [False]), (SVM_NOT_EQUAL, [False]),
                                                           (SVM_VECTORIZED, [True, False]), (SVM_CLAMPED, [False, False])],
                         ids=SVM.keys())
def test_an_svm_that_counts_the_correct_class_adds_its_margin_of_1(source, gradient_changes):
    found = mutants(source, "svm-margin-correct-class")
    assert len(found) == len(gradient_changes)
    W, X, y, reg = case()
    loss, dW = function(source)(W, X, y, reg)
    for mutant, changes in zip(found, gradient_changes):
        mutant_loss, mutant_dW = function(mutant)(W, X, y, reg)
        assert mutant_loss == pytest.approx(loss + 1)
        assert (not np.allclose(mutant_dW, dW)) is changes


@pytest.mark.parametrize("source", SVM.values(), ids=SVM.keys())
def test_an_svm_without_max_0_counts_negative_margins(source):
    found = mutants(source, "svm-drop-hinge")
    assert len(found) == 1
    W, X, y, reg = case()
    reference, mutant = function(source), function(found[0])
    assert differs(mutant, reference, W, X, y, reg)
    assert mutant(W, X, y, reg)[0] < reference(W, X, y, reg)[0]


def test_relu_is_not_taken_for_the_hinge():
    assert mutants(TWO_LAYER_NET, "svm-drop-hinge") == []
    assert mutants("def relu_forward(x):\n    out = np.maximum(0, x)\n    return out, x\n", "svm-drop-hinge") == []


@pytest.mark.parametrize("source", [*SOFTMAX.values(), *SVM.values()], ids=[*SOFTMAX, *(f"svm-{k}" for k in SVM)])
def test_the_regularisation_gradient_flips_between_reg_w_and_2_reg_w(source):
    found = mutants(source, "reg-gradient-factor")
    assert len(found) == 1
    W, X, y, reg = case()
    (loss, dW), (mutant_loss, mutant_dW) = function(source)(W, X, y, reg), function(found[0])(W, X, y, reg)
    assert mutant_loss == pytest.approx(loss)
    doubled = "2 * reg * W" in "\n".join(changed_lines(source, found[0]))
    np.testing.assert_allclose(mutant_dW - dW, reg * W if doubled else -reg * W, atol=1e-12)


def test_the_two_layer_net_gets_each_domain_operator_where_it_applies():
    net = compiled(TWO_LAYER_NET, "TwoLayerNet")
    W, X, y, _ = case()
    expected = {"softmax-drop-correct-class": ["pass"],
                "reg-gradient-factor": ["grads = {'W2': hidden.T.dot(dscores) + reg * W2, 'b2': dscores.sum(axis=0)}",
                                        "grads['W1'] = X.T.dot(dhidden) + reg * self.params['W1']"]}
    for operator_id, lines in expected.items():
        found = mutants(TWO_LAYER_NET, operator_id)
        assert [line for source in found for line in changed_lines(TWO_LAYER_NET, source)] == lines
        for source in found:
            mutant = compiled(source, "TwoLayerNet")
            reference_grads = net(5, 6, 4).loss(X, y, reg=REG)[1]
            mutant_grads = mutant(5, 6, 4).loss(X, y, reg=REG)[1]
            assert any(not np.allclose(mutant_grads[key], reference_grads[key]) for key in reference_grads)
