"""Right: every product written with einsum, the loss from a log-softmax made stable by
subtracting the row max, ReLU's derivative as a heaviside step that is 0 at 0."""

import numpy as np


class MLP:
    def __init__(self, layer_sizes: list[int], seed: int = 0) -> None:
        if len(layer_sizes) < 2:
            raise ValueError(f"at least two layer sizes, got {len(layer_sizes)}")
        rng = np.random.default_rng(seed)
        self.weights, self.biases = [], []
        for i in range(len(layer_sizes) - 1):
            fan_in, fan_out = layer_sizes[i], layer_sizes[i + 1]
            self.weights.append(np.sqrt(2 / fan_in) * rng.standard_normal((fan_in, fan_out)))
            self.biases.append(np.zeros(fan_out, dtype=np.float64))

    def _layers(self, X):
        acts, zs = [np.asarray(X, dtype=np.float64)], []
        for i, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = np.einsum("ni,io->no", acts[-1], W) + b
            zs.append(z)
            if i < len(self.weights) - 1:
                acts.append(np.maximum(z, 0))
        return acts, zs

    def forward(self, X):
        return self._layers(X)[1][-1]

    def loss_and_grads(self, X, y):
        acts, zs = self._layers(X)
        logits = zs[-1]
        n = len(logits)
        s = logits - logits.max(axis=-1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=-1, keepdims=True))
        y = np.asarray(y, dtype=np.int64)
        loss = -np.take_along_axis(logp, y[:, None], axis=1).mean()
        g = np.exp(logp)
        g[np.arange(n), y] -= 1
        g = g / n
        grads_w, grads_b = [], []
        for i in range(len(self.weights) - 1, -1, -1):
            grads_w.insert(0, np.einsum("ni,no->io", acts[i], g))
            grads_b.insert(0, np.einsum("no->o", g))
            if i > 0:
                g = np.einsum("no,io->ni", g, self.weights[i]) * np.heaviside(zs[i - 1], 0.0)
        return float(loss), grads_w, grads_b

    def step(self, grads_w, grads_b, lr):
        for i, g in enumerate(grads_w):
            self.weights[i] -= lr * g
        for i, g in enumerate(grads_b):
            self.biases[i] -= lr * g
