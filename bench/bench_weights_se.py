#!/usr/bin/env python
"""Cost of the weights' standard errors on the Scales page's example (gauss3d, N = 500, DII 200 steps),
runs interleaved (0, 8, 0, 8, ...) so that the shared machine's load hits both alike; absolute times are
noisy on a shared machine, the ratio is what matters."""
import time
from infoimb.datasets import load_example
from infoimb.weights import optimize_weights
df = load_example("gauss3d", n=500)
a, b = df[["x", "y", "z"]], df[["x", "y"]]
for R in (0, 8):
    optimize_weights(a, b, method="dii", n_iter=5, n_resamples=R, random_state=0)  # compile both paths
ts = {0: [], 8: []}
for rep in range(5):
    for R in (0, 8):
        t = time.perf_counter()
        r = optimize_weights(a, b, method="dii", n_resamples=R, random_state=0)
        ts[R].append(time.perf_counter() - t)
        last = r
med = {R: sorted(v)[len(v) // 2] for R, v in ts.items()}
print("n_resamples  median s (5 runs)  ratio to 0")
for R in (0, 8):
    print(f"{R:11d}  {med[R]:16.3f}  {med[R] / med[0]:10.2f}")
print("weights", last.weights.round(4), "se", last.weights_se.round(4))
