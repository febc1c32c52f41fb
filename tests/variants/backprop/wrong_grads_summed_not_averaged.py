"""Wrong: the loss is the mean over the rows, but the gradients are those of the sum (never
divided by N), so they are N times too large."""

import itertools

import numpy as np


class MLP:
    def __init__(self, layer_sizes: list[int], seed: int = 0) -> None:
        if len(layer_sizes) < 2:
            raise ValueError(f"layer_sizes needs at least two sizes, got {layer_sizes}")
        rng = np.random.default_rng(seed)
        self.weights = []
        self.biases = []
        for fan_in, fan_out in itertools.pairwise(layer_sizes):
            self.weights.append(rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out)))
            self.biases.append(np.zeros(fan_out))

    def forward(self, X: np.ndarray) -> np.ndarray:
        a = np.asarray(X, dtype=np.float64)
        last = len(self.weights) - 1
        for l, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = a @ W + b
            a = z if l == last else np.maximum(z, 0.0)
        return a

    def loss_and_grads(self, X, y):
        a = np.asarray(X, dtype=np.float64)
        n, last = a.shape[0], len(self.weights) - 1
        inputs, pre = [], []
        for l, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            inputs.append(a)
            z = a @ W + b
            pre.append(z)
            a = z if l == last else np.maximum(z, 0.0)
        shifted = a - a.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(n)
        loss = float(-log_probs[rows, y].mean())
        delta = np.exp(log_probs)
        delta[rows, y] -= 1.0
        grads_w, grads_b = [None] * len(self.weights), [None] * len(self.weights)
        for l in range(last, -1, -1):
            grads_w[l] = inputs[l].T @ delta
            grads_b[l] = delta.sum(axis=0)
            if l > 0:
                delta = (delta @ self.weights[l].T) * (pre[l - 1] > 0)
        return loss, grads_w, grads_b

    def step(self, grads_w, grads_b, lr):
        for W, g in zip(self.weights, grads_w, strict=True):
            W -= lr * g
        for b, g in zip(self.biases, grads_b, strict=True):
            b -= lr * g
