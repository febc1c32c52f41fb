"""A multilayer perceptron with backpropagation written out by hand, in numpy."""

import numpy as np


class MLP:
    """A fully connected ReLU network for classification, trained by hand-written backprop.

    Layers l = 0 .. L-1 with L = len(layer_sizes) - 1:

        a_0 = X                                   # (N, layer_sizes[0])
        z_l = a_l @ weights[l] + biases[l]        # (N, layer_sizes[l + 1])
        a_{l+1} = relu(z_l) for every hidden layer (l < L - 1)
        logits = z_{L-1}                          # the output layer is linear: no ReLU

    Args:
        layer_sizes: [in, hidden_1, ..., hidden_{L-1}, out], every size >= 1 and at least
            two entries ([in, out] is a linear softmax classifier, no hidden layer).
        seed: seeds np.random.default_rng(seed), the only source of randomness.

    Attributes (the tests read them, and write into the arrays in place):
        weights: list of L float64 arrays, weights[l] of shape
            (layer_sizes[l], layer_sizes[l + 1]), so that a layer is a @ W (not a @ W.T).
        biases: list of L float64 arrays, biases[l] of shape (layer_sizes[l + 1],).
        Initialisation (He): rng = np.random.default_rng(seed); for l = 0 .. L-1 in order,
        weights[l] = rng.normal(0.0, sqrt(2 / layer_sizes[l]), size=(fan_in, fan_out));
        biases[l] = zeros. The same seed gives the same weights; different seeds give
        different ones. forward, loss_and_grads and step use the arrays currently in these
        lists.

    Methods:
        forward(X) -> logits; loss_and_grads(X, y) -> (loss, grads_w, grads_b);
        step(grads_w, grads_b, lr) -> None. See each method.

    Raises:
        ValueError: in the constructor, if layer_sizes has fewer than two entries.

    Do not use: torch (numpy only), autograd, jax: the gradients are yours to derive.
    """

    def __init__(self, layer_sizes: list[int], seed: int = 0) -> None:
        """Check layer_sizes, then draw the weights in layer order and zero the biases."""
        raise NotImplementedError

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The logits of every row.

        Args:
            X: (N, in) floats (any float dtype; computed in float64), N >= 1.

        Returns:
            logits: (N, out) float64, before any softmax.
        """
        raise NotImplementedError

    def loss_and_grads(
        self, X: np.ndarray, y: np.ndarray
    ) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """The mean softmax cross-entropy and its gradient with respect to every parameter.

            loss = mean over the N rows of  -log softmax(logits[n])[y[n]]
                 = mean over n of  logsumexp(logits[n]) - logits[n, y[n]]

        Args:
            X: (N, in) floats, N >= 1.
            y: (N,) integer class labels in [0, out).

        Returns:
            (loss, grads_w, grads_b): loss a Python float (np.float64 is one); grads_w[l]
            and grads_b[l] float64 arrays of the shapes of weights[l] and biases[l], the
            gradients of that mean loss (so they scale as 1/N, not as N).

        Conventions and edge cases:
            Numerically stable: logsumexp and softmax subtract each row's max first, so
            logits of +-1e4 give a finite loss and finite gradients.
            The derivative of relu at exactly 0 is taken as 0 (as torch does): a unit whose
            pre-activation is exactly 0 passes no gradient back.
            The weights, biases, X and y are left unchanged.
        """
        raise NotImplementedError

    def step(self, grads_w: list[np.ndarray], grads_b: list[np.ndarray], lr: float) -> None:
        """One step of gradient descent, in place: W -= lr * g for every weight and bias.

        Args:
            grads_w, grads_b: lists as loss_and_grads returns them (left unchanged).
            lr: the learning rate.

        Returns None. The arrays already in self.weights and self.biases are updated in
        place (so a reference held to weights[l] sees the new values); no list or array is
        replaced.
        """
        raise NotImplementedError
