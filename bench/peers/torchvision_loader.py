#!/usr/bin/env python3
"""torchvision's DataLoader doing what bench/bench_dataloader.cpp's Strata loaders do, for
strata/torchvision ratios in one run (the Strata bench starts this script through run-tuned).

  torchvision_mnist_tiny_w{W}       ImageFolder(<mnist>/train): PIL open + decode PNG, convert("L"),
                                    ToTensor (float / 255), batch of 64 (shuffle, drop_last)
  torchvision_jpeg224_rrc_w{W}      ImageFolder(<jpeg>): PIL decode JPEG, convert("RGB"),
                                    RandomResizedCrop(224) (scale 0.08..1, ratio 3/4..4/3,
                                    bilinear), ToTensor, batch of 64 (shuffle, drop_last)
  torchvision_jpeg224_resize_w{W}   the same with Resize(224) + CenterCrop(224) (fastai's
                                    Resize(224): the centred square, resized)

Tuned: torch runs with 1 intra-op thread (--threads), as inside DataLoader workers.
W = num_workers (0: the main process; W > 0: W worker processes, persistent across epochs so
their start-up is not timed). Figure: items/s over one epoch, median of --repeat epochs after one
warm-up epoch. Prints "name  <ms per epoch> ms  <items/s> items/s" (bench/peer_script.h parses it).

  run-tuned <path relative to run-tuned's folder>/torchvision_loader.py --mnist DIR --jpeg DIR --workers 0,2
Exits 0 with a message when torch or torchvision is missing.
"""
import argparse, statistics, sys, time

try:
    import torch
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms
    from PIL import Image
except ImportError:
    print("torch / torchvision / PIL are not installed: apt-get install -y python3-torchvision"); sys.exit(0)


def gray_loader(path):
    with open(path, "rb") as f:
        return Image.open(f).convert("L")


def rgb_loader(path):
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


def epoch_time(dl):
    t0 = time.perf_counter()
    n = 0
    for x, y in dl:
        n += x.shape[0]
    return time.perf_counter() - t0, n


def run(name, ds, bs, workers, repeat):
    dl = DataLoader(ds, batch_size=bs, shuffle=True, drop_last=True, num_workers=workers,
                    persistent_workers=workers > 0, generator=torch.Generator().manual_seed(0))
    epoch_time(dl)  # warm-up: workers started, files in the page cache
    ts, n = [], 0
    for _ in range(repeat):
        t, n = epoch_time(dl)
        ts.append(t)
    med = statistics.median(ts)
    print(f"{name:44s} {med * 1e3:10.3f} ms  {n / med:12.2f} items/s", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnist", help="mnist_tiny folder (train/3, train/7)")
    ap.add_argument("--jpeg", help="folder of class folders of JPEGs")
    ap.add_argument("--workers", default="0,2")
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    # 1 intra-op thread, as torch's DataLoader workers use: per-image ops are tiny, and with 2
    # OpenMP threads the main-process loader (num_workers 0) measured 5x slower on a busy machine.
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--filter", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}")
    cases = []
    if a.mnist:
        cases.append(("mnist_tiny", lambda: datasets.ImageFolder(f"{a.mnist}/train", transform=transforms.ToTensor(),
                                                                 loader=gray_loader)))
    if a.jpeg:
        rrc = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor()])
        resize = transforms.Compose([transforms.Resize(224), transforms.CenterCrop(224), transforms.ToTensor()])
        cases.append(("jpeg224_rrc", lambda: datasets.ImageFolder(a.jpeg, transform=rrc, loader=rgb_loader)))
        cases.append(("jpeg224_resize", lambda: datasets.ImageFolder(a.jpeg, transform=resize, loader=rgb_loader)))
    for case, make in cases:
        for w in (int(s) for s in a.workers.split(",") if s):
            name = f"torchvision_{case}_w{w}"
            if a.filter and a.filter not in name:
                continue
            run(name, make(), a.bs, w, a.repeat)


if __name__ == "__main__":
    main()
