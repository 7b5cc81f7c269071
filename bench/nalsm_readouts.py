#!/usr/bin/python3
"""Refits readouts on the features a dataset pipeline saved (features.save = true), to
compare feature scalings and regularisation without simulating again:

    bench/nalsm_readouts.py OUT.h5 MODES [LEARNING_RATES [L2S]]

MODES (comma-separated): std (per-feature standardisation with the training split, as
glia's readout), l1max (each sample divided by its L1 norm, then everything by the
training split's largest value: NALSM's published readout), l1std (L1 per sample, then
standardised); LEARNING_RATES and L2S comma-separated (defaults 1e-3 and 1e-4).
Softmax regression, mean cross-entropy + (l2/2)|W|^2, Adam, batch 256, 40 epochs; prints
validation and test accuracy at the best validation epoch. The split sizes are the
pipeline's (dataset.train / validation / test, read from the file's experiment)."""
import sys
import tomllib

import h5py
import numpy as np


def load(path):
    with h5py.File(path) as h:
        x = np.asarray(h["/features/data"], dtype=np.float64)
        y = np.asarray(h["/features/labels"]).astype(int).ravel()
        m = h["/metrics"].attrs
        return x, y, {k: m[k] for k in m}


def split_sizes(path, n):
    with h5py.File(path) as h:
        text = h["/"].attrs.get("experiment", b"")
    text = text.decode() if isinstance(text, bytes) else str(text)
    dataset = tomllib.loads(text).get("dataset", {})
    if "train" not in dataset or "validation" not in dataset:
        raise SystemExit(f"{path}: no [dataset] train / validation in the stored experiment")
    n_train, n_val = int(dataset["train"]), int(dataset["validation"])
    if n_train + n_val >= n:
        raise SystemExit(f"{path}: {n} samples, fewer than train + validation")
    return n_train, n_val


def scaled(x, mode, n_train):
    x = x.copy()
    if mode in ("l1max", "l1std"):
        s = x.sum(1, keepdims=True)
        s[s == 0] = 1
        x /= s
    if mode == "l1max":
        x /= x[:n_train].max()
    if mode in ("std", "l1std"):
        m, sd = x[:n_train].mean(0), x[:n_train].std(0)
        sd[sd == 0] = 1
        x = (x - m) / sd
    return x


def fit(x, y, n_train, n_val, lr, l2, epochs=40, batch=256, seed=1):
    xtr, ytr = x[:n_train], y[:n_train]
    xva, yva = x[n_train:n_train + n_val], y[n_train:n_train + n_val]
    xte, yte = x[n_train + n_val:], y[n_train + n_val:]
    rng = np.random.default_rng(seed)
    d, k = x.shape[1], 10
    w, b = np.zeros((d, k)), np.zeros(k)
    mw, vw, mb, vb = np.zeros_like(w), np.zeros_like(w), np.zeros(k), np.zeros(k)
    onehot = np.eye(k)[ytr]
    best, t = (-1.0, 0.0, 0), 0
    for epoch in range(epochs):
        order = rng.permutation(n_train)
        for s in range(0, n_train, batch):
            idx = order[s:s + batch]
            z = xtr[idx] @ w + b
            z -= z.max(1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(1, keepdims=True)
            g = (p - onehot[idx]) / len(idx)
            gw, gb = xtr[idx].T @ g + l2 * w, g.sum(0)
            t += 1
            mw, vw = 0.9 * mw + 0.1 * gw, 0.999 * vw + 0.001 * gw * gw
            mb, vb = 0.9 * mb + 0.1 * gb, 0.999 * vb + 0.001 * gb * gb
            c1, c2 = 1 - 0.9**t, 1 - 0.999**t
            w -= lr * (mw / c1) / (np.sqrt(vw / c2) + 1e-8)
            b -= lr * (mb / c1) / (np.sqrt(vb / c2) + 1e-8)
        val = np.mean(np.argmax(xva @ w + b, 1) == yva)
        if val > best[0]:
            best = (val, np.mean(np.argmax(xte @ w + b, 1) == yte), epoch + 1)
    return best


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    path, modes = sys.argv[1], sys.argv[2].split(",")
    lrs = [float(v) for v in sys.argv[3].split(",")] if len(sys.argv) > 3 else [1e-3]
    l2s = [float(v) for v in sys.argv[4].split(",")] if len(sys.argv) > 4 else [1e-4]
    x, y, metrics = load(path)
    n_train, n_val = split_sizes(path, len(y))
    print(f"{path}: {x.shape[0]} samples x {x.shape[1]} features, glia's test accuracy "
          f"{float(metrics.get('test_accuracy', float('nan'))):.4f}", flush=True)
    for mode in modes:
        xs = scaled(x, mode, n_train)
        for lr in lrs:
            for l2 in l2s:
                val, test, epoch = fit(xs, y, n_train, n_val, lr, l2)
                print(f"{mode:6s} lr {lr:g} l2 {l2:g}: validation {100 * val:.2f} %, "
                      f"test {100 * test:.2f} % (epoch {epoch})", flush=True)


if __name__ == "__main__":
    main()
