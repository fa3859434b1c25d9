"""Batched skeleton augmentations of AS-CAL and AimCLR, in torch, on the batch's device.

Every transform is a callable object on a batch ``x: (N, C=3, T, V, M)``::

    out = t(x, generator=g)                      # g: a torch.Generator on x.device, or None
    out, params = t(x, generator=g, return_params=True)
    params = t.sample_params(x, g); out = t.apply(x, params)   # the same thing in two steps

Each sample draws its own parameters (angles, matrices, whether it fires with probability
``p``...) in one batched call, so a seeded generator reproduces a batch exactly on one device.
``params`` is a dict of per-sample tensors; ``params["applied"]: (N,) bool`` says which samples
the transform changed. The definitions follow docs/methods.md §3 (official code of both papers).

Differences from the official code, on purpose:

- The official transforms run per sample in numpy inside DataLoader workers and turn float32
  into float64 (AimCLR from the shear on, AS-CAL from ``subtract`` on). Here the dtype is kept
  (float32 in, float32 out), so results agree with the official ones to float32 rounding.
- Random numbers come from torch, not from Python's ``random``/numpy, so the same seed gives
  different draws than the official code (the distributions are the same).

Official quirks reproduced by default, each with the option that turns it off (METHODS §9):
unnormalised blur kernel (``GaussianBlur(normalize=False)``, option ``blur_normalize``) and
non-negative rotation angles (``Rotate(symmetric=False)``, option ``rotate_symmetric``).

Zero padding and absent bodies: linear maps (rotation, shear), flips, masks and the blur keep
all-zero entries at zero (the blur smears real frames into the padding near its edge); noise
lands on the padding and on an absent second body (faithful, METHODS §3); centring subtracts
the centre joint frame by frame and body by body, so all-zero frames stay zero.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .skeleton import Layout, get_layout

__all__ = [
    "Transform", "Compose", "Center", "Rotate", "Shear", "ProperShear", "TimeReverse", "TemporalCrop",
    "SpatialFlip", "GaussianNoise", "GaussianBlur", "JointMask", "AxisMask",
    "ResizedTemporalCrop", "ascal_view", "aimclr_normal", "aimclr_extreme", "ASCAL_TRANSFORMS",
    "OFFICIAL_ASCAL_TRANSFORMS",
    "axis_rotation", "rotation_matrices", "crop_indices", "blur_kernels",
    "to_motion", "to_bone", "to_stream", "STREAMS",
]


# --------------------------------------------------------------------------- helpers

def _check_batch(x: torch.Tensor, who: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{who}: expected a torch.Tensor x of shape (N, C, T, V, M), "
                        f"got {type(x).__name__}")
    if x.ndim != 5:
        raise ValueError(f"{who}: expected x of shape (N, C, T, V, M), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{who}: expected a floating-point x, got dtype {x.dtype}")


def _check_generator(x: torch.Tensor, generator: torch.Generator | None, who: str) -> None:
    if generator is not None and generator.device.type != x.device.type:
        raise ValueError(f"{who}: the generator is on {generator.device} but x is on {x.device}; "
                         f"create it with torch.Generator(device=x.device)")


def _uniform(shape, low, high, x, generator) -> torch.Tensor:
    """U(low, high) of the given shape, float32, on x.device."""
    u = torch.rand(shape, generator=generator, device=x.device, dtype=torch.float32)
    return low + (high - low) * u


def _randint(low: int, high_inclusive: int, shape, x, generator) -> torch.Tensor:
    """Integers uniform in {low..high_inclusive}, on x.device."""
    return torch.randint(low, high_inclusive + 1, shape, generator=generator, device=x.device)


def _random_subset(n: int, size: int, k: torch.Tensor, x, generator) -> torch.Tensor:
    """(n, size) bool: for each row, k[row] distinct positions chosen uniformly (no replacement)."""
    scores = torch.rand((n, size), generator=generator, device=x.device)
    ranks = scores.argsort(dim=1).argsort(dim=1)  # a uniform random permutation per row
    return ranks < k[:, None]


def _gated_matrix(A: torch.Tensor, applied: torch.Tensor) -> torch.Tensor:
    """A (N, C, C) where the sample fires, the identity where it does not."""
    eye = torch.eye(A.shape[-1], device=A.device, dtype=A.dtype)
    return torch.where(applied[:, None, None], A, eye)


def _channel_product(x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
    """p' = A p for every joint: x: (N, C, T, V, M), A: (N, C, C) -> same shape as x."""
    n, c = x.shape[:2]
    return torch.bmm(A.to(x.dtype), x.reshape(n, c, -1)).reshape(x.shape)


def _linear_map(x: torch.Tensor, A: torch.Tensor, applied: torch.Tensor) -> torch.Tensor:
    """p' = A p for every joint of the samples that fire: x: (N, 3, T, V, M), A: (N, 3, 3)."""
    return _channel_product(x, _gated_matrix(A, applied))


def _as_body_pairs(x: torch.Tensor) -> torch.Tensor:
    """x (N, C, T, V, M), viewed with the last axis packed into 8-byte words where that is a pure
    reinterpretation (contiguous float32, M even): fewer, larger elements for index copies."""
    if (x.dtype == torch.float32 and x.shape[-1] % 2 == 0 and x.is_contiguous()
            and x.storage_offset() % 2 == 0):
        return x.view(torch.float64)
    return x


def _take_frames(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """out[n, :, t] = x[n, :, idx[n, t]]: x (N, C, T, V, M), idx (N, T) long; one indexed copy."""
    n, c, t, v, m = x.shape
    rows = torch.arange(n * c, device=x.device).view(n, c, 1) * t + idx[:, None, :]
    return x.reshape(n * c * t, v * m).index_select(0, rows.reshape(-1)).reshape(x.shape)


# --------------------------------------------------------------------------- base classes

# On the CPU a transform that fires on some samples only runs on those (cheaper); on CUDA/MPS it
# runs on all and selects, which avoids synchronising with the host. Tests flip this to check
# that both paths give the same result.
SUBSET_ON_CPU = True

def _draw_and_apply(t, x, generator, return_params):
    """``t(x)`` for a Transform or a Compose; a single sample (C, T, V, M) is a batch of one."""
    single = isinstance(x, torch.Tensor) and x.ndim == 4
    xb = x[None] if single else x
    params = t.sample_params(xb, generator)
    out = t.apply(xb, params)
    out = out[0] if single else out
    return (out, params) if return_params else out


class Transform:
    """A random transform of a batch ``x: (N, C, T, V, M)``; each sample draws its own parameters.

    Subclasses implement ``_sample(x, generator, applied) -> dict`` and ``_apply(x, params)``;
    the base class adds the per-sample coin flip with probability ``p`` (``params["applied"]``)
    and, unless ``_gates_itself``, runs ``_apply`` only on the samples that fire.
    """

    p: float = 1.0
    _gates_itself = False   # True: _apply takes the whole batch and honours params["applied"]
    # A linear map of the coordinates, the same for every joint and frame (p' = A p), given by
    # ``channel_matrix``; Compose multiplies runs of them into one product.
    _channel_map = False
    # Acts on frames, joints or bodies the same way for every coordinate, so it commutes with
    # any channel map: Compose may move a pending channel product past it.
    _commutes_with_channel_maps = False

    def sample_params(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict:
        """Draw every random number this transform needs for the batch x (only its shape is used)."""
        _check_batch(x, type(self).__name__)
        _check_generator(x, generator, type(self).__name__)
        n = x.shape[0]
        if self.p >= 1:
            applied = torch.ones(n, dtype=torch.bool, device=x.device)
        elif self.p <= 0:
            applied = torch.zeros(n, dtype=torch.bool, device=x.device)
        else:
            applied = torch.rand(n, generator=generator, device=x.device) < self.p
        return {"applied": applied, **self._sample(x, generator, applied)}

    def apply(self, x: torch.Tensor, params: dict, inplace: bool = False) -> torch.Tensor:
        """Apply the drawn parameters; deterministic. ``inplace=True`` allows the transform to
        write its result into x (Compose does so for the intermediates it made itself): fewer
        fresh batch-sized tensors, which on the CPU cost page faults as well as memory passes."""
        _check_batch(x, type(self).__name__)
        applied = params["applied"]
        if self._gates_itself:
            return self._apply_(x, params) if inplace else self._apply(x, params)
        if x.device.type != "cpu" or not SUBSET_ON_CPU:
            # on an accelerator: no host sync (no bool() of a device tensor); transform every
            # sample and keep the originals where the coin said no
            keep = applied.view(-1, *([1] * (x.ndim - 1)))
            return torch.where(keep, self._apply(x, params), x)
        if bool(applied.all()):
            return self._apply(x, params)
        if not bool(applied.any()):
            return x
        # Work only on the samples that fire (cheaper than transforming all and selecting).
        idx = applied.nonzero().squeeze(1)
        n = x.shape[0]
        sub = {k: v.index_select(0, idx) if isinstance(v, torch.Tensor) and v.ndim and v.shape[0] == n
               else v for k, v in params.items()}
        changed = self._apply(x.index_select(0, idx), sub)
        return x.index_copy_(0, idx, changed) if inplace else x.index_copy(0, idx, changed)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None,
                 return_params: bool = False):
        return _draw_and_apply(self, x, generator, return_params)

    def _sample(self, x, generator, applied) -> dict:
        return {}

    def _apply(self, x, params) -> torch.Tensor:
        raise NotImplementedError

    def _apply_(self, x, params) -> torch.Tensor:
        """``_apply`` allowed to overwrite x; transforms with an in-place form override it."""
        return self._apply(x, params)

    def _args(self) -> dict:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._args().items())
        return f"{type(self).__name__}({args})"


class Compose:
    """Apply transforms left to right; ``return_params=True`` also returns one params dict each."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def sample_params(self, x: torch.Tensor, generator: torch.Generator | None = None) -> list:
        # Every transform keeps the shape and draws from the shape only, so drawing all params
        # first and then applying gives the same result as drawing and applying in turn.
        return [t.sample_params(x, generator) for t in self.transforms]

    def apply(self, x: torch.Tensor, params: list) -> torch.Tensor:
        """Apply the transforms in turn, except that the coordinate maps (rotation, shear) are
        multiplied into one 3×3 matrix per sample and applied in one pass: across transforms
        that commute with them (crop, flip, blur, ...), up to the next one that does not (noise,
        axis mask). The same map as applying them one by one, to float rounding."""
        _check_batch(x, "Compose")
        pending = None                       # product of the channel maps not applied yet
        owned = False                        # x is an intermediate made here: transforms may overwrite it
        for t, p in zip(self.transforms, params):
            if getattr(t, "_channel_map", False):
                m = t.channel_matrix(p).to(x.dtype)      # multiplied in the batch's precision
                pending = m if pending is None else m @ pending
                continue
            if pending is not None and not getattr(t, "_commutes_with_channel_maps", False):
                x, pending, owned = _channel_product(x, pending), None, True
            y = t.apply(x, p, inplace=owned) if isinstance(t, Transform) else t.apply(x, p)
            owned, x = owned or y is not x, y
        return x if pending is None else _channel_product(x, pending)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None,
                 return_params: bool = False):
        return _draw_and_apply(self, x, generator, return_params)

    def __len__(self):
        return len(self.transforms)

    def __iter__(self):
        return iter(self.transforms)

    def __getitem__(self, i):
        return self.transforms[i]

    def __repr__(self) -> str:
        inner = ",\n".join(f"  {t!r}" for t in self.transforms)
        return f"Compose([\n{inner}\n])"


# --------------------------------------------------------------------------- spatial transforms

class Center(Transform):
    """AS-CAL ``subtract``: p'[t, v, m] = p[t, v, m] - p[t, joint, m] (joint 1 = middle of spine)."""

    _commutes_with_channel_maps = True

    def __init__(self, joint: int = 1):
        self.joint = int(joint)

    def _apply(self, x, params):
        return x - x[:, :, :, self.joint:self.joint + 1, :]

    def _args(self):
        return {"joint": self.joint}


def axis_rotation(theta: torch.Tensor, axis: int) -> torch.Tensor:
    """The official rotation about one axis (0=x, 1=y, 2=z): theta (...,) radians -> (..., 3, 3).

    R_x = [[1,0,0],[0,c,s],[0,-s,c]], R_y = [[c,0,-s],[0,1,0],[s,0,c]],
    R_z = [[c,s,0],[-s,c,0],[0,0,1]], applied as p' = R p (METHODS §3.1).
    """
    theta = torch.as_tensor(theta)
    c, s = torch.cos(theta), torch.sin(theta)
    one, zero = torch.ones_like(c), torch.zeros_like(c)
    if axis == 0:
        rows = [[one, zero, zero], [zero, c, s], [zero, -s, c]]
    elif axis == 1:
        rows = [[c, zero, -s], [zero, one, zero], [s, zero, c]]
    elif axis == 2:
        rows = [[c, s, zero], [-s, c, zero], [zero, zero, one]]
    else:
        raise ValueError(f"axis_rotation: expected axis 0, 1 or 2, got {axis!r}")
    return torch.stack([torch.stack(r, dim=-1) for r in rows], dim=-2)


def rotation_matrices(angles_deg: torch.Tensor) -> torch.Tensor:
    """R = R_z R_y R_x (x applied first, as AimCLR) from angles (N, 3) in degrees -> (N, 3, 3)."""
    rad = angles_deg * (math.pi / 180.0)
    return axis_rotation(rad[:, 2], 2) @ axis_rotation(rad[:, 1], 1) @ axis_rotation(rad[:, 0], 0)


class Rotate(Transform):
    """Random rotation: a main axis uniform in {x, y, z} gets U(0, max_angle) degrees, the other
    two get U(0, other_angle) (AS-CAL: other_angle=0; AimCLR: 1). p' = R_z R_y R_x p.

    Official quirk: angles are non-negative; off with ``Rotate(symmetric=True)`` (option
    ``rotate_symmetric``), which draws U(-a, a) instead.
    params: ``axis (N,)`` long, ``angles (N, 3)`` degrees about x, y, z, ``matrix (N, 3, 3)``.
    """

    def __init__(self, max_angle: float = 30.0, other_angle: float = 0.0, p: float = 1.0,
                 symmetric: bool = False):
        self.max_angle, self.other_angle = float(max_angle), float(other_angle)
        self.p, self.symmetric = float(p), bool(symmetric)

    def _sample(self, x, generator, applied):
        n = x.shape[0]
        axis = _randint(0, 2, (n,), x, generator)
        low = -1.0 if self.symmetric else 0.0
        main = _uniform((n,), low, 1.0, x, generator) * self.max_angle
        others = _uniform((n, 3), low, 1.0, x, generator) * self.other_angle
        angles = others.scatter(1, axis[:, None], main[:, None])
        return {"axis": axis, "angles": angles, "matrix": rotation_matrices(angles)}

    _gates_itself = True
    _channel_map = True

    def channel_matrix(self, params):
        """(N, 3, 3): the matrix of the samples that fire, the identity for the others."""
        return _gated_matrix(params["matrix"], params["applied"])

    def _apply(self, x, params):
        return _linear_map(x, params["matrix"], params["applied"])

    def _args(self):
        return {"max_angle": self.max_angle, "other_angle": self.other_angle, "p": self.p,
                "symmetric": self.symmetric}


class Shear(Transform):
    """Shear p' = S p, S = [[1, a1, b1], [a2, 1, b2], [a3, b3, 1]], off-diagonals i.i.d.
    U(-amplitude, amplitude) (AS-CAL: 1.0; AimCLR: 0.5). params: ``matrix (N, 3, 3)``."""

    def __init__(self, amplitude: float = 1.0, p: float = 1.0):
        self.amplitude, self.p = float(amplitude), float(p)

    def _sample(self, x, generator, applied):
        n = x.shape[0]
        off = _uniform((n, 3, 3), -self.amplitude, self.amplitude, x, generator)
        eye = torch.eye(3, device=x.device, dtype=off.dtype)
        return {"matrix": off * (1 - eye) + eye}

    _gates_itself = True
    _channel_map = True

    def channel_matrix(self, params):
        """(N, 3, 3): the matrix of the samples that fire, the identity for the others."""
        return _gated_matrix(params["matrix"], params["applied"])

    def _apply(self, x, params):
        return _linear_map(x, params["matrix"], params["applied"])

    def _args(self):
        return {"amplitude": self.amplitude, "p": self.p}


class ProperShear(Shear):
    """``Shear`` restricted to maps that keep handedness: a draw whose determinant is not
    positive is drawn again (NOT official; strategy name ``properShear``). About 5 % of
    U(-1, 1) shears have det < 0, i.e. they mirror the body (a left-hand wave becomes a
    right-hand one); with amplitude <= 0.5 no draw can (det >= 1 - 3a^2 - 2a^3 >= 0).
    Redrawing keeps the distribution of the official shear conditioned on det > 0.
    params: ``matrix (N, 3, 3)``, ``redraws (N,)`` (how often each sample was drawn again).
    """

    max_redraws = 64

    def _sample(self, x, generator, applied):
        m = super()._sample(x, generator, applied)["matrix"]
        redraws = torch.zeros(m.shape[0], dtype=torch.long, device=m.device)
        for _ in range(self.max_redraws):
            bad = torch.linalg.det(m) <= 0
            if not bool(bad.any()):
                break
            fresh = super()._sample(x, generator, applied)["matrix"]
            m, redraws = torch.where(bad[:, None, None], fresh, m), redraws + bad.long()
        else:   # never reached in practice (P < 0.05^64); keep the guarantee anyway
            m = torch.where((torch.linalg.det(m) <= 0)[:, None, None], torch.eye(3, device=m.device), m)
        return {"matrix": m, "redraws": redraws}


class SpatialFlip(Transform):
    """AimCLR spatial flip: new joint i takes old joint ``layout.flip_permutation[i]``.

    Faithful: only the joint labels move, coordinates are not negated (METHODS §1.2).
    """

    def __init__(self, p: float = 0.5, layout: Layout | str = "ntu25"):
        self.p, self.layout = float(p), get_layout(layout)
        self._perm = torch.tensor(self.layout.flip_permutation, dtype=torch.long)

    _gates_itself = True
    _commutes_with_channel_maps = True

    def _apply(self, x, params):
        n, c, t, v, _ = x.shape
        if v != self.layout.num_joints:
            raise ValueError(f"SpatialFlip: layout {self.layout.name} has "
                             f"{self.layout.num_joints} joints, x has V={v}")
        # One gather along the joints, the identity for samples that do not fire; the bodies of
        # a float32 joint move as one 8-byte word where that is a pure reinterpretation.
        w = _as_body_pairs(x)
        wm = w.shape[-1]
        ar = torch.arange(wm, device=x.device)
        flip = (self._perm.to(x.device)[:, None] * wm + ar).reshape(-1)
        same = torch.arange(v * wm, device=x.device)
        idx = torch.where(params["applied"][:, None], flip, same)             # (N, V·M')
        wf = w.reshape(n, c * t, v * wm)
        out = wf.gather(2, idx[:, None, :].expand(n, c * t, v * wm))
        return out.view(x.dtype).view(x.shape)

    def _args(self):
        return {"p": self.p, "layout": self.layout.name}


class AxisMask(Transform):
    """Zero one coordinate axis (x, y or z, uniform) for all T, V, M. AS-CAL p=1, AimCLR p=0.5.
    params: ``axis (N,)`` long."""

    def __init__(self, p: float = 1.0):
        self.p = float(p)

    def _sample(self, x, generator, applied):
        return {"axis": _randint(0, x.shape[1] - 1, (x.shape[0],), x, generator)}

    _gates_itself = True

    def _keep(self, x, params):
        hit = F.one_hot(params["axis"], x.shape[1]).to(x.dtype) * params["applied"][:, None]
        return (1 - hit)[:, :, None, None, None]                         # (N, C) keep mask

    def _apply(self, x, params):
        return x * self._keep(x, params)

    def _apply_(self, x, params):
        return x.mul_(self._keep(x, params))

    def _args(self):
        return {"p": self.p}


# --------------------------------------------------------------------------- temporal transforms

class TimeReverse(Transform):
    """Reverse the frame order of the whole window (AS-CAL ``randomFlip``, AimCLR time flip).

    Faithful: trailing zero padding becomes leading padding.
    """

    _commutes_with_channel_maps = True

    def __init__(self, p: float = 0.5):
        self.p = float(p)

    _gates_itself = True

    def _apply(self, x, params):
        t = x.shape[2]
        ar = torch.arange(t, device=x.device)
        return _take_frames(x, torch.where(params["applied"][:, None], t - 1 - ar, ar))

    def _args(self):
        return {"p": self.p}


def reverse_valid_frames(x: torch.Tensor) -> torch.Tensor:
    """Every clip played backwards within its own valid frames: frame t of clip n becomes frame
    L_n − 1 − t, where L_n counts the frames up to the clip's last non-zero frame; trailing zero
    padding stays at the end (unlike :class:`TimeReverse`, which reverses the whole window, as the
    official codes do). x: (N, C, T, V, M) -> a new tensor of the same shape."""
    _check_batch(x, "reverse_valid_frames")
    t = x.shape[2]
    ar = torch.arange(t, device=x.device)
    nonzero = x.ne(0).flatten(3).any(-1).any(1)                                  # (N, T)
    lengths = torch.where(nonzero, ar + 1, torch.zeros_like(ar)).amax(1)          # (N,)
    return _take_frames(x, torch.where(ar < lengths[:, None], lengths[:, None] - 1 - ar, ar))


def crop_indices(T: int, pad: int, start: torch.Tensor) -> torch.Tensor:
    """Source frame of each output frame of the mirrored crop: start (N,) -> (N, T) long.

    The padded sequence is x[pad-1..0], x[0..T-1], x[T-1..T-pad] (numpy 'symmetric' padding,
    the edge frame repeated), and the window is padded[start : start + T].
    """
    i = start[:, None] - pad + torch.arange(T, device=start.device)[None, :]
    i = torch.where(i < 0, -i - 1, i)
    return torch.where(i >= T, 2 * T - 1 - i, i)


class TemporalCrop(Transform):
    """AimCLR ``temperal_crop``: mirror-pad pad = T // padding_ratio frames at both ends (edge
    frame included) and take T frames from start s ~ U{0..2·pad}: a shift of -pad..+pad frames.

    Nothing is resized. On zero-padded sequences the trailing zeros are what gets mirrored at the
    end (frame50 data has none). params: ``start (N,)`` long, ``pad`` (an int, same for all).
    """

    _commutes_with_channel_maps = True

    def __init__(self, padding_ratio: int = 6, p: float = 1.0):
        self.padding_ratio, self.p = int(padding_ratio), float(p)

    def _sample(self, x, generator, applied):
        pad = x.shape[2] // self.padding_ratio
        start = _randint(0, 2 * pad, (x.shape[0],), x, generator)
        return {"start": start, "pad": pad}

    _gates_itself = True

    def _apply(self, x, params):
        t = x.shape[2]
        idx = crop_indices(t, params["pad"], params["start"])             # (N, T)
        ar = torch.arange(t, device=x.device)
        return _take_frames(x, torch.where(params["applied"][:, None], idx, ar))

    def _args(self):
        return {"padding_ratio": self.padding_ratio, "p": self.p}


class ResizedTemporalCrop(Transform):
    """Random resized crop in time (NOT in either official code; a named improvement, used by
    later skeleton methods): a window of ``r·(T−1)`` frames, r ~ U(scale), placed uniformly at
    random, linearly resampled back to T frames. It removes what the window's position and
    length say about a clip (onset, duration) and varies the tempo.

    Meant for frame-normalised input (frame50: every frame valid); on zero-padded clips the
    window may include padding. params: ``ratio (N,)``, ``offset (N,)`` in [0, 1].
    """

    _commutes_with_channel_maps = True

    def __init__(self, scale=(0.5, 1.0), p: float = 1.0):
        lo, hi = float(scale[0]), float(scale[1])
        if not 0 < lo <= hi <= 1:
            raise ValueError(f"ResizedTemporalCrop: scale must satisfy 0 < low <= high <= 1, got {scale}")
        self.scale, self.p = (lo, hi), float(p)

    _gates_itself = True

    def _sample(self, x, generator, applied):
        n = x.shape[0]
        ratio = _uniform((n,), self.scale[0], self.scale[1], x, generator)
        offset = _uniform((n,), 0.0, 1.0, x, generator)
        return {"ratio": torch.where(applied, ratio, torch.ones_like(ratio)),
                "offset": torch.where(applied, offset, torch.zeros_like(offset))}

    def _apply(self, x, params):
        t = x.shape[2]
        span = params["ratio"].to(x.dtype) * (t - 1)                       # (N,)
        start = params["offset"].to(x.dtype) * ((t - 1) - span)
        pos = start[:, None] + span[:, None] * torch.linspace(0, 1, t, device=x.device, dtype=x.dtype)
        lo = pos.floor().clamp(0, t - 1)
        w = (pos - lo)[:, None, :, None, None]
        lo = lo.long()
        hi = (lo + 1).clamp(max=t - 1)
        out = _take_frames(x, lo) * (1 - w) + _take_frames(x, hi) * w
        return torch.where(params["applied"][:, None, None, None, None], out, x)   # exact identity

    def _args(self):
        return {"scale": self.scale, "p": self.p}


def blur_kernels(sigma: torch.Tensor, kernel_size: int = 15, normalize: bool = False) -> torch.Tensor:
    """Gaussian taps w_k = exp(-k²/(2σ²)), k = -r..r: sigma (N,) -> (N, kernel_size).

    Official quirk: not normalised (Σw from 1 at σ=0.1 to ≈5.01 at σ=2); ``normalize=True``
    divides by Σw (option ``blur_normalize``).
    """
    r = kernel_size // 2
    k = torch.arange(-r, r + 1, device=sigma.device, dtype=sigma.dtype)
    w = torch.exp(-(k[None, :] ** 2) / (2.0 * sigma[:, None] ** 2))
    return w / w.sum(dim=1, keepdim=True) if normalize else w


class GaussianBlur(Transform):
    """Temporal Gaussian blur: each (coordinate, joint, body) trajectory is convolved along time
    with a 15-tap kernel, zero padding, length kept; σ ~ U(0.1, 2), one per sample; p = 0.5.

    Official quirk: the kernel is not normalised, so the "blur" also scales coordinates by 1-5x
    and pulls the ends towards 0; off with ``GaussianBlur(normalize=True)`` (``blur_normalize``).
    params: ``sigma (N,)``, ``kernel (N, kernel_size)``.
    """

    _commutes_with_channel_maps = True

    def __init__(self, kernel_size: int = 15, sigma_range: tuple[float, float] = (0.1, 2.0),
                 p: float = 0.5, normalize: bool = False):
        if int(kernel_size) % 2 != 1:
            raise ValueError(f"GaussianBlur: expected an odd kernel_size, got {kernel_size!r}")
        self.kernel_size, self.sigma_range = int(kernel_size), tuple(float(s) for s in sigma_range)
        self.p, self.normalize = float(p), bool(normalize)

    def _sample(self, x, generator, applied):
        sigma = _uniform((x.shape[0],), *self.sigma_range, x, generator)
        return {"sigma": sigma, "kernel": blur_kernels(sigma, self.kernel_size, self.normalize)}

    def _apply(self, x, params):
        n, c, t, v, m = x.shape
        r = self.kernel_size // 2
        # Zero-padded "same" convolution along time as a banded matrix per sample:
        # B[n, t, s] = w[n, s - t + r] for |s - t| <= r, and out = B @ x over the T axis.
        ar = torch.arange(t, device=x.device)
        d = ar[None, :] - ar[:, None] + r                                   # (T, T)
        band = ((d >= 0) & (d < self.kernel_size)).to(x.dtype)
        B = params["kernel"].to(x.dtype)[:, d.clamp(0, self.kernel_size - 1)] * band
        return torch.matmul(B[:, None], x.reshape(n, c, t, v * m)).reshape(x.shape)

    def _args(self):
        return {"kernel_size": self.kernel_size, "sigma_range": self.sigma_range, "p": self.p,
                "normalize": self.normalize}


# --------------------------------------------------------------------------- noise and masks

class GaussianNoise(Transform):
    """Add i.i.d. N(0, sigma²) to every coordinate, padding and absent bodies included (faithful).
    AS-CAL: sigma 0.05, p 1; AimCLR: sigma 0.01, p 0.5. params: ``noise (N, C, T, V, M)``, with
    zero rows for the samples that do not fire."""

    def __init__(self, sigma: float = 0.05, p: float = 1.0):
        self.sigma, self.p = float(sigma), float(p)

    def _sample(self, x, generator, applied):
        # Drawn only for the samples that fire (rows of the others stay 0): half the work at p 0.5.
        idx = applied.nonzero().squeeze(1)
        noise = torch.zeros(x.shape, device=x.device, dtype=x.dtype)
        draw = torch.randn((len(idx), *x.shape[1:]), generator=generator, device=x.device,
                           dtype=x.dtype)
        return {"noise": noise.index_copy_(0, idx, draw.mul_(self.sigma))}

    def apply(self, x, params, inplace: bool = False):
        _check_batch(x, type(self).__name__)
        # rows of samples that do not fire are 0
        return x.add_(params["noise"]) if inplace else x + params["noise"]

    def _apply(self, x, params):
        return x + params["noise"]

    def _args(self):
        return {"sigma": self.sigma, "p": self.p}


class MotionScale(Transform):
    """Scale each clip's movement about its own time-mean pose (NOT in either official code; an
    option of this library): x' = m + a·(x − m), m = x averaged over the T frames, a ~ U(scale).
    It changes how far and how fast every joint moves, not the mean posture, so the two views of
    a clip differ in movement amplitude. Bodies that are all zero stay zero. Meant for
    frame-normalised input (frame50: every frame valid). params: ``scale (N,)``."""

    def __init__(self, scale=(0.7, 1.3), p: float = 1.0):
        lo, hi = float(scale[0]), float(scale[1])
        if not 0 < lo <= hi:
            raise ValueError(f"MotionScale: scale must satisfy 0 < low <= high, got {scale}")
        self.scale, self.p = (lo, hi), float(p)

    def _sample(self, x, generator, applied):
        return {"scale": _uniform((x.shape[0],), self.scale[0], self.scale[1], x, generator)}

    def _apply(self, x, params):
        m = x.mean(dim=2, keepdim=True)
        a = params["scale"].to(x.dtype).view(-1, 1, 1, 1, 1)
        return m + a * (x - m)

    def _args(self):
        return {"scale": self.scale, "p": self.p}


class JointMask(Transform):
    """AS-CAL ``zeroOutJoints``: zero xyz of k ~ U{5..15} distinct joints in n distinct frames
    (not necessarily contiguous), all bodies; n ~ U{20..50} if T < 100 else U{50..100}.

    The official code fails when n > T (SBU, T = 40); here n and k are clamped to T and V
    (METHODS pitfall 17). params: ``k (N,)``, ``n (N,)``, ``joints (N, V)`` bool, ``frames (N, T)``
    bool; the zeroed entries are exactly ``frames[:, t] & joints[:, v]``.
    """

    _commutes_with_channel_maps = True

    def __init__(self, num_joints: tuple[int, int] = (5, 15),
                 num_frames: tuple[int, int] | None = None, p: float = 1.0):
        self.num_joints = tuple(int(a) for a in num_joints)
        self.num_frames = None if num_frames is None else tuple(int(a) for a in num_frames)
        self.p = float(p)

    def frame_range(self, T: int) -> tuple[int, int]:
        """The (low, high) range of n for T frames, after clamping to T."""
        lo, hi = self.num_frames or ((20, 50) if T < 100 else (50, 100))
        return min(lo, T), min(hi, T)

    def _sample(self, x, generator, applied):
        n_samples, _, T, V, _ = x.shape
        klo, khi = min(self.num_joints[0], V), min(self.num_joints[1], V)
        nlo, nhi = self.frame_range(T)
        k = _randint(klo, khi, (n_samples,), x, generator)
        n = _randint(nlo, nhi, (n_samples,), x, generator)
        joints = _random_subset(n_samples, V, k, x, generator)
        frames = _random_subset(n_samples, T, n, x, generator)
        return {"k": k, "n": n, "joints": joints, "frames": frames}

    _gates_itself = True

    def _apply(self, x, params):
        hit = params["frames"][:, :, None] & params["joints"][:, None, :]   # (N, T, V)
        hit &= params["applied"][:, None, None]
        return x * (~hit).to(x.dtype)[:, None, :, :, None]

    def _args(self):
        return {"num_joints": self.num_joints, "num_frames": self.num_frames, "p": self.p}


# --------------------------------------------------------------------------- presets

def _ascal_transforms(joint: int, blur_normalize: bool, rotate_symmetric: bool,
                      shear_amplitude: float = 1.0) -> dict:
    return {
        "subtract": lambda: Center(joint),
        "rotate": lambda: Rotate(30.0, 0.0, p=1.0, symmetric=rotate_symmetric),
        "shear": lambda: Shear(shear_amplitude),
        "randomFlip": lambda: TimeReverse(0.5),
        "gausNoise": lambda: GaussianNoise(0.05, p=1.0),
        "gausFilter": lambda: GaussianBlur(15, (0.1, 2.0), p=0.5, normalize=blur_normalize),
        "zeroOutJoints": lambda: JointMask((5, 15), None, p=1.0),
        "zeroOutAxis": lambda: AxisMask(p=1.0),
        # not in the official code (named options): a random resized temporal crop for
        # frame-normalised input, a shear that never mirrors the body (det > 0)
        "resizeCrop": lambda: ResizedTemporalCrop((0.5, 1.0), p=1.0),
        "properShear": lambda: ProperShear(shear_amplitude),
    }


ASCAL_TRANSFORMS = tuple(_ascal_transforms(1, False, False))
OFFICIAL_ASCAL_TRANSFORMS = tuple(n for n in ASCAL_TRANSFORMS if n not in ("resizeCrop", "properShear"))


def ascal_view(strategy: str = "subtract_randomFlip_shear", joint: int = 1,
               blur_normalize: bool = False, rotate_symmetric: bool = False,
               shear_amplitude: float = 1.0) -> Compose:
    """An AS-CAL view from its strategy string (names joined by "_", applied left to right).

    The default is the released strategy (centre on joint 1, reverse with p 0.5, shear U(-1, 1)).
    Each name takes its official random defaults; a name may carry a suffix ("subtract1"), matched
    by prefix as the official lookup does. Cropping to ``selected_frames`` is the caller's job.
    ``shear_amplitude``: the bound a of ``shear``'s (and ``properShear``'s) U(-a, a)
    coefficients (official: 1.0). Without ``randomFlip`` the views keep the time direction
    (e.g. ``subtract_properShear``: neither time reversal nor mirror images).
    """
    if not shear_amplitude > 0:
        raise ValueError(f"ascal_view: shear_amplitude must be > 0, got {shear_amplitude!r}")
    table = _ascal_transforms(joint, blur_normalize, rotate_symmetric, float(shear_amplitude))
    out = []
    for token in strategy.split("_"):
        match = [name for name in table if token.startswith(name)]
        if not match:
            raise ValueError(f"ascal_view: unknown transform {token!r} in strategy {strategy!r}; "
                             f"expected names from {list(table)}")
        out.append(table[match[0]]())
    return Compose(out)


def aimclr_normal(shear_amplitude: float = 0.5, temporal_padding_ratio: int = 6) -> Compose:
    """AimCLR's normal view: temporal crop (ratio 6) then shear (0.5), both always; 0 skips one."""
    out = []
    if temporal_padding_ratio > 0:
        out.append(TemporalCrop(temporal_padding_ratio))
    if shear_amplitude > 0:
        out.append(Shear(shear_amplitude))
    return Compose(out)


def extreme_ops(aug_method: str = "12345", layout: Layout | str = "ntu25", blur_normalize: bool = False,
                rotate_symmetric: bool = False) -> list:
    """The transforms named by the digits of ``aug_method``, in AimCLR's fixed order, each tried
    independently: 1 spatial flip (p 0.5), 2 rotation (always; 30° main axis, 1° the others),
    3 noise (σ 0.01, p 0.5), 4 blur (p 0.5), 5 axis mask (p 0.5), 6 time flip (p 0.5, not in the
    default)."""
    ops = {
        "1": lambda: SpatialFlip(0.5, layout),
        "2": lambda: Rotate(30.0, 1.0, p=1.0, symmetric=rotate_symmetric),
        "3": lambda: GaussianNoise(0.01, p=0.5),
        "4": lambda: GaussianBlur(15, (0.1, 2.0), p=0.5, normalize=blur_normalize),
        "5": lambda: AxisMask(p=0.5),
        "6": lambda: TimeReverse(0.5),
    }
    bad = set(aug_method) - set(ops)
    if bad:
        raise ValueError(f"aug_method {aug_method!r} has unknown ops {sorted(bad)}; expected digits 1-6")
    return [ops[d]() for d in sorted(ops) if d in aug_method]


def aimclr_extreme(shear_amplitude: float = 0.5, temporal_padding_ratio: int = 6,
                   aug_method: str = "12345", layout: Layout | str = "ntu25",
                   blur_normalize: bool = False, rotate_symmetric: bool = False) -> Compose:
    """AimCLR's extreme view: the normal view, then the ops named in ``aug_method``
    (:func:`extreme_ops`)."""
    try:
        ops = extreme_ops(aug_method, layout, blur_normalize, rotate_symmetric)
    except ValueError as e:
        raise ValueError(f"aimclr_extreme: {e}") from None
    return Compose(aimclr_normal(shear_amplitude, temporal_padding_ratio).transforms + ops)


def contrastive_view(shear_amplitude: float = 0.5, temporal_padding_ratio: int = 6,
                     resized_crop_scale=None, view_ops: str = "", layout: Layout | str = "ntu25",
                     motion_scale=None) -> Compose:
    """A SkeletonCLR view. The defaults are AimCLR's normal view (:func:`aimclr_normal`), as in the
    official code. Options of this library (not in the official code): ``resized_crop_scale``
    ``(low, high)`` replaces the padded temporal crop by :class:`ResizedTemporalCrop` (window
    position, length and tempo vary); ``view_ops`` appends the extreme ops with those digits
    (:func:`extreme_ops`) to both views; ``motion_scale`` ``(low, high)`` starts each view with
    :class:`MotionScale`."""
    first = [] if motion_scale is None else [MotionScale(tuple(motion_scale))]
    if resized_crop_scale is None:
        base = aimclr_normal(shear_amplitude, temporal_padding_ratio).transforms
    else:
        base = [ResizedTemporalCrop(tuple(resized_crop_scale))] + ([Shear(shear_amplitude)] if shear_amplitude > 0 else [])
    try:
        ops = extreme_ops(view_ops, layout) if view_ops else []
    except ValueError as e:
        raise ValueError(f"view_ops: {e}") from None
    return Compose(first + base + ops)


# --------------------------------------------------------------------------- streams

STREAMS = ("joint", "motion", "bone")


def to_motion(x: torch.Tensor) -> torch.Tensor:
    """Motion stream: m[:, :, t] = x[:, :, t+1] - x[:, :, t], and 0 at the last frame.

    x: (N, C, T, V, M) -> same shape.
    """
    out = torch.zeros_like(x)
    out[:, :, :-1] = x[:, :, 1:] - x[:, :, :-1]
    return out


def to_bone(x: torch.Tensor, layout: Layout | str = "ntu25") -> torch.Tensor:
    """Bone stream: b[..., v, :] = x[..., v, :] - x[..., parents[v], :]; the centre's bone is 0."""
    lay = get_layout(layout)
    if x.shape[-2] != lay.num_joints:
        raise ValueError(f"to_bone: layout {lay.name} has {lay.num_joints} joints, "
                         f"x has V={x.shape[-2]}")
    parents = torch.tensor(lay.parents, dtype=torch.long, device=x.device)
    return x - x.index_select(x.ndim - 2, parents)


def to_stream(x: torch.Tensor, stream: str = "joint", layout: Layout | str = "ntu25") -> torch.Tensor:
    """The joint, motion or bone stream of x: (N, C, T, V, M)."""
    if stream == "joint":
        return x
    if stream == "motion":
        return to_motion(x)
    if stream == "bone":
        return to_bone(x, layout)
    raise ValueError(f"to_stream: unknown stream {stream!r}; expected one of {STREAMS}")
