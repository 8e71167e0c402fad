"""Command-line trainer for the course's Fashion-MNIST models.

Reproduce the course exactly (validation on the test set, 20 epochs, Adam 0.001, batch 32)::

    python -m cnnviz.ml.train --model cnn --epochs 20 --out runs/course_cnn.keras

Train a shipped model: settings chosen on a validation split held out from the
60,000 training images; the test set is measured once, at the end::

    python -m cnnviz.ml.train --model cnn --validation holdout --val-size 6000 --epochs 35 \\
        --batch-size 32 --lr-decay 0.9 --early-stop 6 --flip \\
        --out assets/models/fashion_cnn.keras --card assets/models/fashion_cnn.md

(the model cards in assets/models/ give the exact commands of the shipped models).

Data come from ``$CNNVIZ_DATA_DIR/fashion-mnist/`` or Keras' loader.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from cnnviz.core import data
from cnnviz.ml.datasets import load_fashion_mnist

DESCRIPTIONS = {
    "dense": "Flatten -> Dense 20 relu -> Dense 10 softmax",
    "cnn": "Conv2D 64 3x3 relu -> MaxPooling 2 -> Conv2D 64 3x3 relu -> MaxPooling 2 -> "
    "Flatten -> Dense 20 relu -> Dense 10 softmax",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The trainer's options (defaults: the course's settings)."""
    p = argparse.ArgumentParser(prog="python -m cnnviz.ml.train", description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=("dense", "cnn"), required=True)
    p.add_argument("--epochs", type=int, default=20, help="maximum epochs (default 20, the course's)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam's initial learning rate")
    p.add_argument("--lr-decay", type=float, default=1.0,
                   help="multiply the learning rate by this after every epoch (1 = constant)")
    p.add_argument("--validation", choices=("test", "holdout", "none"), default="test",
                   help="'test': the course's validation_data=(test images); 'none': fit on "
                   "all 60,000 training images for a number of epochs chosen before; 'holdout': "
                   "the last --val-size training images, the test set measured once at the end")
    p.add_argument("--val-size", type=int, default=6000)
    p.add_argument("--early-stop", type=int, default=0, metavar="PATIENCE",
                   help="stop when val_accuracy has not improved for PATIENCE epochs and keep "
                   "the best epoch's weights (needs --validation holdout)")
    p.add_argument("--train-size", type=int, default=0, help="use a random subset (0 = all)")
    p.add_argument("--flip", action="store_true",
                   help="augment: mirror a random half of each batch left-right (training only)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="TensorFlow threads per op")
    p.add_argument("--out", type=Path, required=True, help="where to save the .keras model")
    p.add_argument("--card", type=Path, help="write a model card (Markdown) here")
    p.add_argument("--snapshots", type=Path, metavar="NPZ",
                   help="record weight snapshots (random start, batches 10/50/200 of epoch 1, every "
                   "epoch up to the kept one) with their validation accuracy, saved here (float16)")
    p.add_argument("--note", default="", help="a sentence for the model card (how settings were chosen)")
    args = p.parse_args(argv)
    if args.early_stop and args.validation != "holdout":
        p.error("--early-stop picks epochs by validation accuracy: use --validation holdout, "
                "never the test set")
    return args


def main(argv: list[str] | None = None) -> int:
    """Train, save, evaluate on the test set once, and optionally write a model card."""
    args = parse_args(argv)
    command = "python -m cnnviz.ml.train " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    try:
        (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    except data.DataUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from cnnviz.ml import models, threads, training  # Keras/TensorFlow: after the arguments are checked

    threads.cap_tf_threads(args.threads, 1)
    import keras

    x_train, x_test = data.prepare_images(x_train), data.prepare_images(x_test)
    if args.validation == "holdout":
        (x_fit, y_fit), (x_val, y_val) = data.split_validation(
            x_train, y_train, validation_size=args.val_size)
    elif args.validation == "test":
        (x_fit, y_fit), (x_val, y_val) = (x_train, y_train), (x_test, y_test)
    else:
        (x_fit, y_fit), (x_val, y_val) = (x_train, y_train), (None, None)
    if args.train_size:
        x_fit, y_fit = data.subset(x_fit, y_fit, args.train_size, seed=args.seed)

    keras.utils.set_random_seed(args.seed)
    model = models.build_cnn() if args.model == "cnn" else models.build_dense()
    model.summary(print_fn=print)
    run = training.TrainingRun(name=args.model, model=model, settings=vars(args))
    callbacks: list[keras.callbacks.Callback] = []
    if args.lr_decay != 1.0:
        callbacks.append(keras.callbacks.LearningRateScheduler(
            lambda epoch, lr: args.lr * args.lr_decay**epoch))
    if args.early_stop:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_accuracy", mode="max", patience=args.early_stop,
            restore_best_weights=True))

    def report(epoch: int, logs: dict, seconds: float) -> None:
        print(f"epoch {epoch + 1:2d}  {seconds:6.1f} s  " + "  ".join(
            f"{k} {v:.4f}" for k, v in logs.items() if k != "learning_rate"), flush=True)

    series = None
    if args.snapshots:
        from cnnviz.core.snapshots import SnapshotSeries

        series = SnapshotSeries(budget_bytes=2**31)  # a file, not a session: keep every point
    started = time.perf_counter()
    training.train(run, x_fit, y_fit, epochs=args.epochs, batch_size=args.batch_size,
                 learning_rate=args.lr, on_epoch=report,
                 validation_data=None if x_val is None else (x_val, y_val),
                 callbacks=callbacks, flip=args.flip, snapshots=series)
    total = time.perf_counter() - started

    val_acc = run.history.get("val_accuracy", [])
    best = (max(range(len(val_acc)), key=val_acc.__getitem__) if args.early_stop
            else run.epochs_done - 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    models.save_model(model, args.out)
    reloaded = models.load_model(args.out)
    results = {
        "model": args.model,
        "params": model.count_params(),
        "epochs_run": run.epochs_done,
        "kept_epoch": best + 1,
        "train": models.evaluate(reloaded, x_fit, y_fit),
        "validation": None if x_val is None else models.evaluate(reloaded, x_val, y_val),
        "test": models.evaluate(reloaded, x_test, y_test),
        "seconds_per_epoch": sum(run.epoch_seconds) / max(1, run.epochs_done),
        "total_seconds": total,
        "file_bytes": args.out.stat().st_size,
        "command": command,
    }
    if series is not None:
        results["snapshots"] = save_snapshots(series, model, best + 1, x_val, y_val, args.snapshots)
    print(json.dumps(results, indent=2), flush=True)
    if args.card:
        args.card.write_text(model_card(args, run, results), encoding="utf-8")
    return 0


def save_snapshots(series, model, kept_epoch: int, x_val, y_val, path: Path) -> dict:
    """Keep the snapshots up to the kept epoch, measure the early ones' validation accuracy,
    save them; returns what the card says about them."""
    from cnnviz.ml.snapshots import measure_accuracies

    series = series.up_to_epoch(kept_epoch)
    if x_val is not None:
        measure_accuracies(series, model, x_val, y_val)
    path.parent.mkdir(parents=True, exist_ok=True)
    series.save(path)
    return {"file": path.name, "count": len(series), "file_bytes": path.stat().st_size,
            "points": [{"label": s.label, "val_accuracy": s.val_accuracy} for s in series]}


def snapshot_section(results: dict) -> str:
    """The card's paragraph about the snapshot file (empty without one)."""
    snaps = results.get("snapshots")
    if not snaps:
        return ""
    rows = "\n".join(f"| {p['label']} | " + ("—" if p["val_accuracy"] is None else f"{p['val_accuracy']:.4f}") + " |"
                     for p in snaps["points"])
    return f"""
## Snapshots (`{snaps['file']}`)
The weights at {snaps['count']} points of this training, for the Activations page's "watch it learn"
slider: the random start, after batches 10, 50 and 200 of epoch 1, and after every epoch up to the kept
one (the last snapshot is the shipped model's weights). Stored as float16 in a compressed `.npz`:
{snaps['file_bytes']:,} bytes. Validation accuracy on the held-out images (the epochs' from training,
the others measured after it):

| snapshot | validation accuracy |
|---|---|
{rows}
"""


def model_card(args: argparse.Namespace, run, results: dict) -> str:
    """A short Markdown model card: architecture, data, training, accuracies, the command."""
    val_note = (
        f"validation: the last {args.val_size:,} of the 60,000 training images, held out "
        f"(the model was fitted on {len_note(args)}); settings and the kept epoch were "
        "chosen on these; the 10,000 test images were measured after training"
        if args.validation == "holdout"
        else "validation: the 10,000 test images (as in the course)" if args.validation == "test"
        else "no validation set: fitted on all 60,000 training images for a fixed number of "
        "epochs chosen beforehand on a held-out split; the 10,000 test images were measured "
        "once, after training"
    )
    val_acc = run.history.get("val_accuracy", [])
    val_row = ("" if results["validation"] is None else
               f"| validation | {results['validation']['accuracy']:.4f} | "
               f"{results['validation']['loss']:.4f} |\n")
    rows = "\n".join(
        f"| {epoch + 1} | {run.history['accuracy'][epoch]:.4f} | "
        f"{run.history['val_accuracy'][epoch] if val_acc else float('nan'):.4f} | "
        f"{run.epoch_seconds[epoch]:.0f} |"
        for epoch in range(run.epochs_done)
    )
    schedule = (f"multiplied by {args.lr_decay} after every epoch" if args.lr_decay != 1.0
                else "constant")
    stopping = (f"EarlyStopping(monitor='val_accuracy', patience={args.early_stop}, "
                "restore_best_weights=True)" if args.early_stop else "none: all epochs kept")
    name = "CNN" if args.model == "cnn" else "dense network"
    return f"""# Fashion-MNIST {name} (`{args.out.name}`)

The course's {name}, trained for cnnviz. Saved without the optimizer state; load with
`cnnviz.ml.models.load_model` (Keras safe mode).

{args.note + chr(10) + chr(10) if args.note else ""}## Architecture
{DESCRIPTIONS[args.model]} — {results['params']:,} parameters (exactly the course's model).
Input: 28x28x1 grey images scaled to 0..1. Output: probabilities of the ten classes.

## Data
Fashion-MNIST (Zalando Research, MIT licence): 60,000 training and 10,000 test images.
Preparation as in the course: reshape to (N, 28, 28, 1), divide by 255.
{val_note}.

## Training
Adam, initial learning rate {args.lr} ({schedule}), sparse categorical cross-entropy,
{"training images mirrored left-right at random (half of each batch; the model is unchanged), " if args.flip else ""}
batch size {args.batch_size}, at most {args.epochs} epochs; early stopping: {stopping}.
Epochs run: {results['epochs_run']}; weights kept from epoch {results['kept_epoch']}.
Seed {args.seed}, {args.threads} TensorFlow threads, CPU; {results['seconds_per_epoch']:.0f} s per
epoch on average here.

| epoch | train accuracy | validation accuracy | seconds |
|---|---|---|---|
{rows}

## Results (the kept weights)
| set | accuracy | loss |
|---|---|---|
| training ({len_note(args)}) | {results['train']['accuracy']:.4f} | {results['train']['loss']:.4f} |
{val_row}| **test (10,000 images)** | **{results['test']['accuracy']:.4f}** | {results['test']['loss']:.4f} |

File size: {results['file_bytes']:,} bytes.
{snapshot_section(results)}
## Reproduce
```
CNNVIZ_DATA_DIR=/path/to/data {results['command']}
```
(`CNNVIZ_DATA_DIR` is optional: without it Keras downloads the data.) Results vary
slightly between machines (floating-point order, thread counts).
"""


def len_note(args: argparse.Namespace) -> str:
    """How many images the model was fitted on."""
    n = 60000 - (args.val_size if args.validation == "holdout" else 0)
    if args.train_size:
        n = min(n, args.train_size)
    return f"{n:,} images"


if __name__ == "__main__":
    raise SystemExit(main())
