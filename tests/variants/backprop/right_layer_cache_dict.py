"""Right: forward caches each layer's input and pre-activation in a dict keyed by layer;
the backward pass walks the layers in reverse reading the cache; log-sum-exp for the loss."""

import numpy as np


class MLP:
    def __init__(self, layer_sizes: list[int], seed: int = 0) -> None:
        if len(layer_sizes) < 2:
            raise ValueError("need an input and an output size")
        rng = np.random.default_rng(seed)
        self.weights = [
            rng.normal(size=(layer_sizes[i], layer_sizes[i + 1])) * np.sqrt(2 / layer_sizes[i])
            for i in range(len(layer_sizes) - 1)
        ]
        self.biases = [np.zeros(k) for k in layer_sizes[1:]]

    def _forward(self, X):
        cache = {}
        a = np.asarray(X, dtype=float)
        L = len(self.weights)
        for l in range(L):
            z = a @ self.weights[l] + self.biases[l]
            cache[l] = {"a_in": a, "z": z}
            a = z if l == L - 1 else z * (z > 0)
        return a, cache

    def forward(self, X):
        return self._forward(X)[0]

    def loss_and_grads(self, X, y):
        logits, cache = self._forward(X)
        n = logits.shape[0]
        m = logits.max(axis=1)
        lse = m + np.log(np.exp(logits - m[:, None]).sum(axis=1))
        picked = logits[np.arange(n), y]
        loss = float(np.mean(lse - picked))
        probs = np.exp(logits - lse[:, None])
        onehot = np.zeros_like(probs)
        onehot[np.arange(n), y] = 1.0
        dz = (probs - onehot) / n
        gw, gb = {}, {}
        for l in reversed(range(len(self.weights))):
            gw[l] = cache[l]["a_in"].T @ dz
            gb[l] = dz.sum(axis=0)
            if l:
                da = dz @ self.weights[l].T
                dz = np.where(cache[l - 1]["z"] > 0, da, 0.0)
        order = range(len(self.weights))
        return loss, [gw[l] for l in order], [gb[l] for l in order]

    def step(self, grads_w, grads_b, lr):
        for params, grads in ((self.weights, grads_w), (self.biases, grads_b)):
            for p, g in zip(params, grads, strict=True):
                np.subtract(p, lr * g, out=p)
