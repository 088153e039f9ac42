"""Train PlateNet from scratch and export it to ONNX.

One command from a fresh clone (training dependencies in ``requirements.txt``; fonts from
Debian's ``fonts-dejavu-core``, else PIL's built-in font):

    python training/plates/train.py --out python/fastredact/detect/weights/plates.onnx

Phases (fractions of ``--steps``): 0–50 % synthetic plates on real train photos and
licence-clean backgrounds; at 50 % and 75 % the model's own false positives on the train photos
are mined and crops are centred on them (hard negatives), and the share of real photos rises.
The ``valid`` split is only read for the progress log (never for choosing the weights: the
exported model is the exponential moving average at the last step).
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import synth
import torch
import torch.nn.functional as F
from data import Photo, load_backgrounds, load_plates_ro, load_split, load_train_photos
from export import export_onnx, metadata
from init_onnx import freeze_batchnorm, load_onnx_weights
from metrics import Tally
from model import DEFAULT_NECK, DEFAULT_WIDTHS, PlateNetModel, count_parameters
from PIL import Image
from sampler import Sampler
from targets import encode
from torch.utils.data import DataLoader, IterableDataset

REPO = Path(__file__).resolve().parents[2]
FROZEN_BATCHNORM = False  # set by --init: fine-tuning keeps the folded BatchNorm statistics
sys.path.insert(0, str(REPO / "python"))
from fastredact.detect._platenet import PlateBoxes, decode, nms  # noqa: E402


class Stream(IterableDataset):  # type: ignore[type-arg]
    """Endless samples from one seeded generator (one worker, so the order is fixed)."""

    def __init__(self, sampler: Sampler, seed: int, real_fraction: float) -> None:
        self.sampler = sampler
        self.seed = seed
        self.real_fraction = real_fraction

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        rng = np.random.default_rng(self.seed)
        self.sampler.real_fraction = self.real_fraction
        crop = self.sampler.crop
        while True:
            sample = self.sampler(rng)
            image = torch.from_numpy(sample.image.transpose(2, 0, 1).copy())
            targets = encode(sample.boxes, sample.ignore, crop)
            yield (image, *(torch.from_numpy(t) for t in targets))


def focal_loss(logits: torch.Tensor, heat: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss, normalised by the number of plates."""
    prob = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    positive = heat.eq(1).float()
    pos = -torch.log(prob) * (1 - prob) ** 2 * positive
    neg = -torch.log(1 - prob) * prob**2 * (1 - heat) ** 4 * (1 - positive) * weight
    return (pos.sum() + neg.sum()) / positive.sum().clamp(min=1)


def box_losses(
    size: torch.Tensor, offset: torch.Tensor, targets: tuple[torch.Tensor, ...]
) -> torch.Tensor:
    _, _, wh, off, mask = targets
    count = mask.sum().clamp(min=1)
    size_loss = (F.l1_loss(size, wh, reduction="none") * mask).sum() / count
    offset_loss = (F.l1_loss(offset, off, reduction="none") * mask).sum() / count
    return size_loss + offset_loss


def train_mode(model: PlateNetModel) -> None:
    model.train()
    if FROZEN_BATCHNORM:
        freeze_batchnorm(model)


def run_net(model: PlateNetModel, image: np.ndarray) -> PlateBoxes:
    """One RGB uint8 image (sides multiples of 32) through the torch model, decoded."""
    tensor = torch.from_numpy(image.transpose(2, 0, 1).copy())[None].float() / 255.0
    with torch.no_grad():
        logits, size, offset = model(tensor.contiguous(memory_format=torch.channels_last))
        heat = torch.sigmoid(logits)
        peaks = heat * (F.max_pool2d(heat, 3, 1, 1) == heat).float()
    found = decode(peaks[0].numpy(), size[0].numpy(), offset[0].numpy(), threshold=0.1)
    if found.scores.size:
        keep = nms(found.boxes, found.scores, 0.4)
        found = PlateBoxes(found.boxes[keep], found.scores[keep])
    return found


def mine_hard_points(model: PlateNetModel, photos: list[Photo], threshold: float) -> int:
    """Record where the model fires on train photos away from every labelled plate."""
    model.eval()
    total = 0
    for photo in photos:
        found = run_net(model, photo.image)
        points = []
        for box, score in zip(found.boxes, found.scores, strict=True):
            if score < threshold:
                continue
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            near = (
                (photo.plates[:, 0] - 8 <= cx)
                & (cx <= photo.plates[:, 2] + 8)
                & (photo.plates[:, 1] - 8 <= cy)
                & (cy <= photo.plates[:, 3] + 8)
            )
            if not near.any():
                points.append((float(cx), float(cy)))
        photo.hard_points = points
        total += len(points)
    train_mode(model)
    return total


def validate(model: PlateNetModel, valid: list[tuple[Path, np.ndarray]]) -> dict[str, float]:
    """Recall / FP per image on valid at a few thresholds (progress log only)."""
    model.eval()
    tallies = {t: Tally() for t in (0.25, 0.35, 0.5)}
    for image, truth in valid:
        found = run_net(model, image)
        for t, tally in tallies.items():
            keep = found.scores >= t
            tally.add(found.boxes[keep], found.scores[keep], truth, 0.3)
    train_mode(model)
    out = {}
    for t, tally in tallies.items():
        out[f"recall@{t}"] = round(tally.recall, 3)
        out[f"fp@{t}"] = round(tally.fp_per_image, 3)
    return out


def make_loader(sampler: Sampler, seed: int, real_fraction: float, batch: int) -> Iterator:
    stream = Stream(sampler, seed, real_fraction)
    loader = DataLoader(stream, batch_size=batch, num_workers=1, persistent_workers=False)
    return iter(loader)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    shipped = REPO / "python/fastredact/detect/weights/plates.onnx"
    parser.add_argument("--out", type=Path, default=shipped)
    parser.add_argument("--work", type=Path, default=REPO / "out/plates")
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument(
        "--stop-after",
        type=int,
        default=None,
        help="end (and export) after this many steps of the --steps schedule",
    )
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--crop", type=int, default=192)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument(
        "--widths",
        type=int,
        nargs=5,
        default=DEFAULT_WIDTHS,
        help="backbone channels at strides 2, 4, 8, 16, 32",
    )
    parser.add_argument("--neck", type=int, default=DEFAULT_NECK, help="FPN neck channels")
    parser.add_argument(
        "--real-plate-share",
        type=float,
        default=0.75,
        help="share of pasted plates cut from the train photos instead of rendered (0 to 1; "
        "0 renders every pasted plate, as the first shipped model was trained)",
    )
    parser.add_argument(
        "--square-plates",
        action="store_true",
        help="also render near-square two-row plates (aspect 0.8-1.3: motorcycles, some US "
        "and Asian plates); the shipped model was trained without",
    )
    parser.add_argument(
        "--plates-ro",
        action="store_true",
        help="also train on plates-ro/train (MIT dashcam frames, EU plates by day and night)",
    )
    parser.add_argument(
        "--init",
        type=Path,
        default=None,
        help="fine-tune: start from this exported ONNX file (BatchNorm kept frozen)",
    )
    parser.add_argument(
        "--mine-at",
        type=float,
        nargs="+",
        default=(0.5, 0.75),
        help="when to mine hard negatives on the train photos: any of 0, 0.5, 0.75 (phase starts)",
    )
    parser.add_argument(
        "--real-fractions",
        type=float,
        nargs=3,
        default=(0.55, 0.65, 0.75),
        help="share of real photos from 0, 50 and 75 %% of the steps",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    photos = load_train_photos() + (load_plates_ro("train") if args.plates_ro else [])
    backgrounds = load_backgrounds()
    styles = synth.STYLES + (synth.SQUARE_STYLES if args.square_plates else ())
    sampler = Sampler(
        photos,
        backgrounds,
        crop=args.crop,
        real_plate_share=args.real_plate_share,
        styles=styles,
    )
    valid = [
        (np.asarray(Image.open(path).convert("RGB")), plates)
        for path, plates, _ in load_split("valid")
    ]
    model = PlateNetModel(tuple(args.widths), args.neck)
    if args.init is not None:
        global FROZEN_BATCHNORM
        FROZEN_BATCHNORM = True
        load_onnx_weights(model, args.init)
    model = model.to(memory_format=torch.channels_last)
    train_mode(model)
    ema = copy.deepcopy(model).eval()
    print(f"parameters: {count_parameters(model)}", flush=True)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=args.lr, total_steps=args.steps, pct_start=0.08
    )
    early, middle, late = args.real_fractions
    phases = {0: early, args.steps // 2: middle, (3 * args.steps) // 4: late}
    mine_at = {round(f * args.steps) for f in args.mine_at}
    start = time.time()
    loader: Iterator = iter(())
    log = []
    stop = args.steps if args.stop_after is None else min(args.stop_after, args.steps)
    for step in range(stop):
        if step in phases:
            if step in mine_at:
                mined = mine_hard_points(ema, photos, threshold=0.3)
                print(f"step {step}: mined {mined} false positives on train photos", flush=True)
            loader = make_loader(sampler, args.seed + step, phases[step], args.batch)
        image, *targets = next(loader)
        x = (image.float() / 255.0).contiguous(memory_format=torch.channels_last)
        logits, size, offset = model(x)
        loss_heat = focal_loss(logits, targets[0], targets[1])
        loss_box = box_losses(size, offset, tuple(targets))
        loss = loss_heat + loss_box
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimiser.step()
        schedule.step()
        with torch.no_grad():
            decay = min(0.998, (1 + step) / (10 + step))
            for e, p in zip(ema.state_dict().values(), model.state_dict().values(), strict=True):
                if e.dtype.is_floating_point:
                    e.mul_(decay).add_(p.detach(), alpha=1 - decay)
                else:
                    e.copy_(p)
        if step % 50 == 0:
            elapsed = time.time() - start
            print(
                f"step {step} loss {loss.item():.3f} heat {loss_heat.item():.3f} "
                f"box {loss_box.item():.3f} {elapsed / 60:.1f} min",
                flush=True,
            )
        if (step + 1) % args.eval_every == 0 or step + 1 == stop:
            metrics = validate(ema, valid)
            log.append({"step": step + 1, "minutes": (time.time() - start) / 60, **metrics})
            print(f"valid after {step + 1} steps: {metrics}", flush=True)
            torch.save(ema.state_dict(), args.work / "ema.pt")
            torch.save(ema.state_dict(), args.work / f"ema-{step + 1}.pt")
    minutes = (time.time() - start) / 60
    command = (
        f"training/plates/train.py --steps {args.steps} --stop-after {stop} "
        f"--crop {args.crop} --batch {args.batch} --seed {args.seed} --lr {args.lr}"
    )
    command += f" --real-plate-share {args.real_plate_share:g}"
    if tuple(args.widths) != DEFAULT_WIDTHS or args.neck != DEFAULT_NECK:
        command += f" --widths {' '.join(map(str, args.widths))} --neck {args.neck}"
    if args.init is not None:
        fractions = " ".join(f"{f:g}" for f in args.real_fractions)
        mine = " ".join(f"{f:g}" for f in args.mine_at)
        command += f" --init {args.init.name} --real-fractions {fractions} --mine-at {mine}"
    meta = metadata(command)
    sha = export_onnx(ema.eval(), args.out, meta)
    summary = {"minutes": round(minutes, 1), "sha256": sha, "out": str(args.out), "log": log}
    (args.work / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
