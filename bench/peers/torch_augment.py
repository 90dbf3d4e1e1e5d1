#!/usr/bin/env python3
"""fastai-style batch augmentation in PyTorch: the peer of bench/bench_augment.cpp.

What fastai's aug_transforms() does to a training batch on the device (vision/augment.py),
written here with plain torch ops (fastai itself is not needed), on 64 RGB 224x224 f32 images:

  fastai_affine_64x3x224x224          per-sample draws as fastai (flip p 0.5; rotate +-10 deg,
                                      zoom 1..1.1, warp 0.2, each p 0.75), the composed 3x3
                                      matrices -> affine_grid, the perspective warp applied to the
                                      grid (find_coeffs + apply_perspective), fastai's _grid_sample
                                      min/max check, grid_sample (bilinear, reflection,
                                      align_corners)
  fastai_lighting_64x3x224x224        LightingTfm with Brightness and Contrast (max_lighting 0.2,
                                      p 0.75): sigmoid((logit(x) + logit(b)) * c), fastai's logit
                                      (clamp 1e-7, -(1/x - 1).log()), in place as fastai's
                                      _brightness / _contrast do
  fastai_aug_transforms_64x3x224x224  the whole list: affine, then lighting

Prints "name  <median ms> ms  <GB/s> GB/s" per case (GB/s = 2 * 4 * numel / time, one read and
one write of the images), the format bench/peer_script.h parses. Run it tuned:
  /work/shared/peers/run-tuned <path relative to that folder>/torch_augment.py [--filter NAME]
Exits 0 with a message when torch is missing.
"""
import argparse, math, statistics, sys, time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("torch is not installed: apt-get install -y python3-torch"); sys.exit(0)

N, C, H, W = 64, 3, 224, 224


def timeit(fn, repeat, warmup=3):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def masked(draw, p, neutral, g):
    keep = torch.rand(N, generator=g) < p
    return torch.where(keep, draw, torch.full_like(draw, neutral))


def affine_mats(g):
    """fastai's flip_mat @ rotate_mat @ zoom_mat with per-sample draws, as [N, 2, 3]."""
    eye = torch.eye(3).expand(N, 3, 3).clone()
    flip = masked(torch.full((N,), -1.0), 0.5, 1.0, g)
    m_flip = eye.clone(); m_flip[:, 0, 0] = flip
    deg = masked(torch.empty(N).uniform_(-10, 10, generator=g), 0.75, 0.0, g) * math.pi / 180
    m_rot = eye.clone()
    m_rot[:, 0, 0], m_rot[:, 0, 1], m_rot[:, 1, 0], m_rot[:, 1, 1] = deg.cos(), -deg.sin(), deg.sin(), deg.cos()
    s = 1 / masked(torch.empty(N).uniform_(1.0, 1.1, generator=g), 0.75, 1.0, g)
    col, row = torch.rand(N, generator=g), torch.rand(N, generator=g)
    m_zoom = eye.clone()
    m_zoom[:, 0, 0], m_zoom[:, 1, 1] = s, s
    m_zoom[:, 0, 2], m_zoom[:, 1, 2] = (1 - s) * (2 * col - 1), (1 - s) * (2 * row - 1)
    return (m_flip @ m_rot @ m_zoom)[:, :2]


def find_coeffs(p1, p2):
    t0, t1 = torch.zeros(p1.shape[0]), torch.ones(p1.shape[0])
    m = []
    for i in range(p1.shape[1]):
        m.append(torch.stack([p2[:, i, 0], p2[:, i, 1], t1, t0, t0, t0, -p1[:, i, 0] * p2[:, i, 0], -p1[:, i, 0] * p2[:, i, 1]]))
        m.append(torch.stack([t0, t0, t0, p2[:, i, 0], p2[:, i, 1], t1, -p1[:, i, 1] * p2[:, i, 0], -p1[:, i, 1] * p2[:, i, 1]]))
    a = torch.stack(m).permute(2, 0, 1)
    return torch.linalg.solve(a, p1.reshape(p1.shape[0], 8, 1))


def apply_perspective(coords, coeffs):
    sz = coords.shape
    coords = coords.view(sz[0], -1, 2)
    coeffs = torch.cat([coeffs, torch.ones(coeffs.shape[0], 1, 1)], dim=1).view(coeffs.shape[0], 3, 3)
    coords1 = coords @ coeffs[..., :2].transpose(1, 2) + coeffs[..., 2].unsqueeze(1)
    if (coords1[..., 2] == 0.).any():
        return coords[..., :2].view(*sz)
    coords = coords1 / coords1[..., 2].unsqueeze(-1)
    return coords[..., :2].view(*sz)


def warp_coords(coords, g):
    x_t = masked(torch.empty(N).uniform_(-0.2, 0.2, generator=g), 0.75, 0.0, g)
    y_t = masked(torch.empty(N).uniform_(-0.2, 0.2, generator=g), 0.75, 0.0, g)
    orig = torch.tensor([[-1., -1.], [-1., 1.], [1., -1.], [1., 1.]]).unsqueeze(0).expand(N, 4, 2)
    targ = torch.stack([torch.stack([-1 - y_t, -1 - x_t]), torch.stack([-1 + y_t, 1 + x_t]),
                        torch.stack([1 + y_t, -1 + x_t]), torch.stack([1 - y_t, 1 - x_t])]).permute(2, 0, 1)
    return apply_perspective(coords, find_coeffs(targ, orig))


def affine(imgs, g):
    coords = F.affine_grid(affine_mats(g), imgs.shape, align_corners=True)
    coords = warp_coords(coords, g)
    mn, mx = coords.min(), coords.max()  # fastai's _grid_sample: downsample first when shrinking a lot
    z = 1 / (mx - mn).item() * 2
    d = min(imgs.shape[-2] / coords.shape[-2], imgs.shape[-1] / coords.shape[-1]) / 2
    if d > 1 and d > z:
        imgs = F.interpolate(imgs, scale_factor=1 / d, mode="area")
    return F.grid_sample(imgs, coords, mode="bilinear", padding_mode="reflection", align_corners=True)


def logit(x):
    x = x.clamp(1e-7, 1 - 1e-7)
    return -(1 / x - 1).log()


def lighting(imgs, g):
    b = masked(torch.empty(N).uniform_(0.4, 0.6, generator=g), 0.75, 0.5, g)
    c = masked(torch.empty(N).uniform_(math.log(0.8), -math.log(0.8), generator=g).exp(), 0.75, 1.0, g)
    x = logit(imgs)
    x.add_(logit(b[:, None, None, None]))
    x.mul_(c[:, None, None, None])
    return torch.sigmoid(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--filter", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}")
    g = torch.Generator().manual_seed(0)
    imgs = torch.rand(N, C, H, W, generator=g)
    cases = [("fastai_affine_64x3x224x224", lambda: affine(imgs, g)),
             ("fastai_lighting_64x3x224x224", lambda: lighting(imgs, g)),
             ("fastai_aug_transforms_64x3x224x224", lambda: lighting(affine(imgs, g), g))]
    with torch.no_grad():
        for name, fn in cases:
            if a.filter and a.filter not in name:
                continue
            ms = timeit(fn, a.repeat)
            fig = 2 * 4 * imgs.numel() / (ms * 1e-3) / 1e9
            print(f"{name:44s} {ms:10.3f} ms  {fig:12.4f} GB/s", flush=True)


if __name__ == "__main__":
    main()
