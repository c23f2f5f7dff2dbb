"""Softmax regression with L2 regularisation: a gradgrade spec (run `gradgrade mutation-test --assignment` on it).

Students write softmax_loss_vectorized(W, X, y, reg) -> (loss, dW) for scores X @ W, labels y and the
regularisation 0.5 * reg * sum(W**2), as defined below.
"""
import numpy as np

from grader.spec import Case, Loss, Spec


def softmax_loss_vectorized(W, X, y, reg):
    """The mean cross-entropy of softmax(X @ W) over the N examples, plus 0.5 * reg * sum(W**2)."""
    num_train = X.shape[0]
    scores = X.dot(W)
    scores -= np.max(scores, axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(num_train), y])) / num_train
    loss += 0.5 * reg * np.sum(W * W)
    dscores = probs.copy()
    dscores[np.arange(num_train), y] -= 1
    dW = X.T.dot(dscores) / num_train
    dW += reg * W
    return loss, dW


def cases(rng, sizes, reg, *, large=False):
    """One case per (N, D, C): weights of the scale training starts from, every class among the labels.

    large: the first example is unnormalised, far out where all its scores are about 760: exp overflows
    there unless the scores are shifted by their maximum first, yet every probability stays representable.
    """
    found = []
    for N, D, C in sizes:
        W, X = rng.standard_normal((D, C)), rng.standard_normal((N, D))
        if large:
            X[0] += 760 * np.linalg.lstsq(W.T, np.ones(C), rcond=None)[0]
        found.append(Case(f"N{N}-D{D}-C{C}-{len(found)}" + ("-large-scores" if large else ""),
                          {"W": W, "X": X, "y": rng.permutation(np.arange(N) % C), "reg": reg}))
    return found


SPEC = Spec(
    name="softmax_l2",
    title="Softmax regression with L2 regularisation",
    functions=[Loss("softmax_loss_vectorized", wrt="W")],
    public_cases=lambda rng: cases(rng, [(5, 4, 3)], reg=0.1),
    hidden_cases=lambda rng: cases(rng, [(1, 3, 2), (7, 5, 3)], reg=0.5) + cases(rng, [(12, 6, 4)], reg=0.05, large=True),
    # N = D = C: a missing transpose or a swapped product runs and must be caught by value.
    square_cases=lambda rng: cases(rng, [(4, 4, 4), (4, 4, 4)], reg=0.0) + cases(rng, [(3, 3, 3)], reg=1.0),
    seed=2026,
)
