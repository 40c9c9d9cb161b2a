"""Training with PyTorch (the Bayesian network, the autoencoder): the only module that imports torch.

Bayes by backprop (Blundell et al. 2015, "Weight uncertainty in neural networks", ICML):
a factorised Gaussian posterior over every weight, trained by maximising the evidence lower
bound, with the local reparameterisation trick (Kingma, Salimans & Welling 2015, NeurIPS):
pre-activations are sampled instead of weights, which lowers the gradient variance.
Randomness comes from one ``torch.Generator`` seeded by the caller; torch's global state is
left alone.
"""

from __future__ import annotations

import math

import numpy as np

try:
    import torch
    from torch import nn
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError('Training needs PyTorch: pip install "min-ml[train]"') from error

__all__ = ["train_autoencoder", "train_bnn"]


class _BayesLinear(nn.Module):
    def __init__(self, n_in: int, n_out: int, generator: torch.Generator, prior_sigma: float):
        super().__init__()
        bound = 1.0 / math.sqrt(n_in)
        self.w_mu = nn.Parameter(torch.empty(n_in, n_out).uniform_(-bound, bound, generator=generator))
        self.b_mu = nn.Parameter(torch.zeros(n_out))
        init_rho = math.log(math.expm1(1e-3))  # posterior sd starts at 1e-3
        self.w_rho = nn.Parameter(torch.full((n_in, n_out), init_rho))
        self.b_rho = nn.Parameter(torch.full((n_out,), init_rho))
        self.prior_var = prior_sigma**2

    def variances(self):
        return nn.functional.softplus(self.w_rho) ** 2, nn.functional.softplus(self.b_rho) ** 2

    def forward(self, x, generator):
        w_var, b_var = self.variances()
        mean = x @ self.w_mu + self.b_mu
        var = (x * x) @ w_var + b_var
        eps = torch.randn(mean.shape, generator=generator)
        return mean + torch.sqrt(var + 1e-12) * eps

    def kl(self):
        """KL(q || N(0, prior_sigma^2)) summed over the layer's weights and biases."""
        total = 0.0
        for mu, var in ((self.w_mu, self.variances()[0]), (self.b_mu, self.variances()[1])):
            total = total + 0.5 * torch.sum((var + mu**2) / self.prior_var - 1.0 - torch.log(var / self.prior_var))
        return total


class _BayesNet(nn.Module):
    def __init__(self, sizes, generator, prior_sigma):
        super().__init__()
        self.layers = nn.ModuleList(
            _BayesLinear(a, b, generator, prior_sigma) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )

    def forward(self, x, generator):
        for i, layer in enumerate(self.layers):
            x = layer(x, generator)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x

    def kl(self):
        return sum(layer.kl() for layer in self.layers)


def train_bnn(
    X: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    *,
    hidden=(32, 32),
    epochs: int = 30,
    batch_size: int = 512,
    learning_rate: float = 3e-3,
    prior_sigma: float = 1.0,
    class_weights: np.ndarray | None = None,
    random_state: int = 0,
    progress: bool = False,
) -> dict:
    """Train a Bayesian network; return its posterior as numpy arrays.

    Parameters
    ----------
    X : numpy.ndarray of float32, shape (n, d)
        Scaled inputs.
    y : numpy.ndarray of int, shape (n,)
    n_classes : int
    hidden : tuple of int, default=(32, 32)
    epochs, batch_size, learning_rate
        Adam, learning rate halved for the last third of the epochs.
    prior_sigma : float, default=1.0
        Standard deviation of the zero-mean Gaussian prior on every weight.
    class_weights : numpy.ndarray, optional
        Weight of each class in the likelihood (imbalance).
    random_state : int, default=0
    progress : bool, default=False

    Returns
    -------
    dict of str to numpy.ndarray
        ``W{i}_mu``, ``W{i}_var``, ``b{i}_mu``, ``b{i}_var`` per layer (float32), as read by
        :func:`minml.classifier._nn.predictive_proba`.
    """
    generator = torch.Generator().manual_seed(int(random_state))
    sizes = [X.shape[1], *hidden, n_classes]
    net = _BayesNet(sizes, generator, prior_sigma)
    Xt = torch.as_tensor(np.ascontiguousarray(X), dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.long)
    w = np.ones(len(y), dtype=np.float32)
    if class_weights is not None:
        w = np.asarray(class_weights, dtype=np.float32)[y]
    wt = torch.as_tensor(w / w.mean())
    n = len(yt)
    optimiser = torch.optim.Adam(net.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimiser, milestones=[max(1, 2 * epochs // 3)], gamma=0.5)

    from minml._progress import bar

    for _ in bar(range(epochs), desc="training", unit="epoch", enabled=progress):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            logits = net(Xt[idx], generator)
            nll = (nn.functional.cross_entropy(logits, yt[idx], reduction="none") * wt[idx]).mean()
            loss = nll + net.kl() / n
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        schedule.step()

    params = {}
    with torch.no_grad():
        for i, layer in enumerate(net.layers):
            w_var, b_var = layer.variances()
            params[f"W{i}_mu"] = layer.w_mu.numpy().astype(np.float32)
            params[f"W{i}_var"] = w_var.numpy().astype(np.float32)
            params[f"b{i}_mu"] = layer.b_mu.numpy().astype(np.float32)
            params[f"b{i}_var"] = b_var.numpy().astype(np.float32)
    return params


def train_autoencoder(
    X: np.ndarray,
    *,
    hidden=(64, 32),
    latent: int = 2,
    epochs: int = 60,
    batch_size: int = 256,
    learning_rate: float = 2e-3,
    sample_weight: np.ndarray | None = None,
    random_state: int = 0,
    progress: bool = False,
) -> dict:
    """Train an autoencoder on scaled inputs; return its weights as numpy arrays.

    Encoder ``d -> hidden -> latent`` (ReLU, linear latent), decoder the mirror image
    ``latent -> reversed(hidden) -> d`` (ReLU, linear output); loss: mean squared error of
    the scaled inputs, weighted per row.  Adam with the learning rate halved at 2/3 and
    5/6 of the epochs.

    Parameters
    ----------
    X : numpy.ndarray of float32, shape (n, d)
        Scaled inputs.
    hidden : tuple of int, default=(64, 32)
    latent : int, default=2
    epochs, batch_size, learning_rate
    sample_weight : numpy.ndarray, optional
        Weight of each row in the loss (e.g. to balance classes).
    random_state : int, default=0
    progress : bool, default=False

    Returns
    -------
    dict of str to numpy.ndarray
        ``enc{i}_W``, ``enc{i}_b``, ``dec{i}_W``, ``dec{i}_b`` (float32, shape in x out), as
        read by :mod:`minml.unsupervised.latent`.
    """
    generator = torch.Generator().manual_seed(int(random_state))
    sizes = [X.shape[1], *hidden, latent]
    encoder, decoder = _stack(sizes, generator), _stack(sizes[::-1], generator)
    Xt = torch.as_tensor(np.ascontiguousarray(X), dtype=torch.float32)
    w = np.ones(len(X), dtype=np.float32) if sample_weight is None else np.asarray(sample_weight, np.float32)
    wt = torch.as_tensor(w / w.mean())
    params = list(encoder.parameters()) + list(decoder.parameters())
    optimiser = torch.optim.Adam(params, lr=learning_rate)
    schedule = torch.optim.lr_scheduler.MultiStepLR(
        optimiser, milestones=[max(1, 2 * epochs // 3), max(2, 5 * epochs // 6)], gamma=0.5
    )

    from minml._progress import bar

    n = len(Xt)
    for _ in bar(range(epochs), desc="training autoencoder", unit="epoch", enabled=progress):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            batch = Xt[idx]
            loss = (((decoder(encoder(batch)) - batch) ** 2).mean(dim=1) * wt[idx]).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        schedule.step()

    return _weights(encoder, decoder)


def _stack(widths, generator) -> nn.Sequential:
    """Linear layers ``widths[0] -> ... -> widths[-1]``, ReLU between them, initialised
    from ``generator`` (uniform +-1/sqrt(fan in), zero bias)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        linear = nn.utils.skip_init(nn.Linear, a, b)  # no draw from the global RNG
        bound = 1.0 / math.sqrt(a)
        with torch.no_grad():
            linear.weight.uniform_(-bound, bound, generator=generator)
            linear.bias.zero_()
        layers.append(linear)
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _weights(encoder: nn.Sequential, decoder: nn.Sequential) -> dict:
    """The layers' weights as float32 numpy arrays, ``enc{i}_W`` (in x out), ``enc{i}_b``, ``dec...``."""
    out = {}
    for name, net in (("enc", encoder), ("dec", decoder)):
        linears = [m for m in net if isinstance(m, nn.Linear)]
        for i, linear in enumerate(linears):
            out[f"{name}{i}_W"] = linear.weight.detach().numpy().T.astype(np.float32).copy()
            out[f"{name}{i}_b"] = linear.bias.detach().numpy().astype(np.float32).copy()
    return out
