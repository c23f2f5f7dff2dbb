"""The course's numerical gradient helpers, as its notebooks call them (central differences)."""
import numpy as np


def eval_numerical_gradient(f, x, verbose=True, h=0.00001):
    """The gradient of the scalar f(x) with respect to x, one entry at a time (x is restored after)."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = f(x)
        x[index] = old - h
        minus = f(x)
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
        if verbose:
            print(index, grad[index])
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """The gradient of sum(f(x) * df) with respect to x, for a function f returning an array."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = f(x).copy()
        x[index] = old - h
        minus = f(x).copy()
        x[index] = old
        grad[index] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5):
    """Compare a few random entries of analytic_grad with central differences, printing each."""
    for _ in range(num_checks):
        index = tuple(np.random.randint(size) for size in x.shape)
        old = x[index]
        x[index] = old + h
        plus = f(x)
        x[index] = old - h
        minus = f(x)
        x[index] = old
        numerical = (plus - minus) / (2 * h)
        analytic = analytic_grad[index]
        error = abs(numerical - analytic) / (abs(numerical) + abs(analytic) + 1e-12)
        print(f"numerical: {numerical:f} analytic: {analytic:f}, relative error: {error:e}")
