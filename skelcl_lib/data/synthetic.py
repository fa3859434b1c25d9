"""The embedded dataset: procedural Kinect-v2 skeletons generated from a seed in seconds.

What it simulates (``describe()`` lists the classes with the kinematic idea of each):

- **Bodies.** NTU-25 joints driven by forward kinematics from joint angles on a kinematic tree,
  so every bone keeps its length within a sequence (before sensor noise). Each subject has a
  height (1.5-1.95 m), limb/torso/shoulder/hip ratios, a tempo, an amplitude, a posture (slouch,
  arm carry, elbow/knee bend, stance), a dominant hand (15 % left-handed) and a style vector
  that biases how they perform every action. Subject traits depend only on ``(seed, subject)``,
  one performance only on ``(seed, subject, action, replication)``, so changing other
  parameters (number of subjects, classes) keeps them.
- **Actions.** 15 classes, one a two-person interaction (M = 2; the second body is all zeros
  otherwise, as in NTU). Subtle pairs: wave right / left hand, wave / raise right hand
  (amplitude of the swing), punch / reach forward (tempo and guard), sit down / stand up (near
  time reversal); shaking the head leaves the mean pose unchanged. Kick, punch and reach use
  the dominant side. Tempo varies per subject and per performance (x0.75-1.3); periodic
  actions (wave, clap, shake head, walk in place, punch) repeat 1-4 (punch 1-3) times. Feet
  stay planted: the pelvis height follows the supporting leg's hip and knee angles. Random
  onset: the performer idles (sway, small turns, sometimes a fidget: hands on hips, arms
  crossed, hand to the chin, scratching the head, hands behind the back, looking around) for a
  random share of the time the action leaves in the 5 s budget, and 0.1-1.5 s after it, so a
  model must find the action in time.
- **Cameras.** As in NTU: three cameras at 0, -45, +45 degrees around the performer (cameras
  1, 2, 3), all at the same height (0.7-1.2 m, 2.4-3.4 m away, near level), all recording the
  same performance; the performer faces camera 2 in replication 1 and camera 3 in replication
  2 (+- ``FACING_JITTER_DEG`` = 30 degrees), so cameras 2 and 3 see front and side views and
  camera 1 always a 45-degree view. Per recording: distance, height, aim, roll (+-3 degrees),
  azimuth (+-6 degrees) and the performer's spot (+-0.8 m sideways, +-0.5 m in depth) vary.
  Each camera starts recording on its own (up to ``CAMERA_START_SPREAD`` = 60 frames earlier
  than the latest) and drops 0-15 % of its frames, so the three clips of one performance have
  different time axes and lengths (a linear probe cannot just match a test clip with the
  training clips of the same performance). Camera space
  in metres, Kinect convention: y up, z away from the camera, x towards the camera's left, which
  is the right-hand side of a person facing the camera (as in the N-UCLA recordings, where the
  right shoulder has the larger x).
- **Sensor.** Joints hidden behind the torso are "inferred" as Kinect does: they lag and sag
  towards the torso. Temporally correlated (AR(1), rho = 0.75) Gaussian jitter of 6 mm, up to
  2.6x on hands and feet and up to 3x more for joints hidden behind the torso; in side views
  the tracker swaps the left and right arm and/or leg for a stretch of frames (probability
  ``SWAP_RATE`` x sin^2 of the view angle, with ``glitches``);
  glitches (each of 3 candidates per body and camera with probability ``glitch_rate``) where a
  joint jumps away or snaps onto another joint for 2-8 frames; 40-150 frames at 30 fps,
  zero-padded to ``t_max``.

Default size: 40 subjects x 15 classes x 2 replications x 3 cameras = 3600 sequences,
``x`` float32 (3600, 3, 150, 25, 2) = 324 MB, cached as .npz after the first call.
``size="small"`` (10 subjects, 1 replication, 450 sequences) and ``size="tiny"`` (4 subjects,
180 sequences) are for smoke runs and tests. Protocols: ``xsub`` trains on NTU-60's 20 training
performers (of the first 40), ``xview`` on cameras 2 and 3 (test: camera 1).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter

from ..env import cache_dir
from ..skeleton import NTU25
from .dataset import SkeletonData
from .formats import save_stgcn

GENERATOR_VERSION = 2   # part of the cache key, together with this file's source
FPS = 30.0
MIN_FRAMES, MAX_FRAMES = 40, 150
CAMERA_AZIMUTH_DEG = {1: 0.0, 2: -45.0, 3: 45.0}   # camera id -> angle around the performer
FACED_CAMERA = {1: 2, 0: 3}                          # replication parity -> camera faced
# camera id -> ranges of (distance, height, aim height) in metres: as in NTU, the three
# cameras stand at the same height, near level.
CAMERA_MOUNT = {v: ((2.4, 3.4), (0.7, 1.2), (0.7, 1.1)) for v in (1, 2, 3)}
CAMERA_START_SPREAD = 60   # frames: how much earlier than the last one a camera may start
FACING_JITTER_DEG = 30.0    # per performance: facing = faced camera's azimuth + U(-30, 30)
SIZES = {"full": (40, 2), "small": (10, 1), "tiny": (4, 1)}   # (num_subjects, repetitions)

# NTU-60 cross-subject training performers, then NTU-120's additions (the NTU RGB+D papers' cross-subject training lists).
XSUB_TRAIN_SUBJECTS = frozenset((
    1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38, 45, 46, 47, 49,
    50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91, 92, 93,
    94, 95, 97, 98, 100, 103))

# Kinematic tree rooted at spine_base. It equals NTU's bone list except that the hand tip
# hangs from the hand (NTU: from the thumb); the hand is rigid, so NTU's bones keep their length.
_FK_PARENT = {0: -1, 1: 0, 20: 1, 2: 20, 3: 2, 4: 20, 5: 4, 6: 5, 7: 6, 21: 7, 22: 7,
              8: 20, 9: 8, 10: 9, 11: 10, 23: 11, 24: 11,
              12: 0, 13: 12, 14: 13, 15: 14, 16: 0, 17: 16, 18: 17, 19: 18}
_FK_ORDER = [0, 1, 20, 2, 3, 4, 5, 6, 7, 21, 22, 8, 9, 10, 11, 23, 24, 12, 13, 14, 15, 16, 17, 18, 19]
# Bones whose local rotation a pose sets, per side (+1 right, -1 left).
_ARM = {1: (9, 10, 11), -1: (5, 6, 7)}          # upper arm, forearm, hand segments
_LEG = {1: (17, 18, 19), -1: (13, 14, 15)}      # thigh, shin, foot segments
_GIRDLE = {1: 8, -1: 4}
_NOISY = np.array([1.0] * 25)
_NOISY[[5, 9, 13, 17]] = 1.5                                 # elbows, knees
_NOISY[[6, 10, 14, 18]] = 2.0                                # wrists, ankles
_NOISY[[7, 11, 15, 19, 21, 22, 23, 24]] = 2.6                # hands, tips, thumbs, feet
SWAP_RATE = 0.6          # chance of a left/right swap in a pure side view (scaled by sin^2)
_ARM_L, _ARM_R = [4, 5, 6, 7, 21, 22], [8, 9, 10, 11, 23, 24]
_LEG_L, _LEG_R = [12, 13, 14, 15], [16, 17, 18, 19]
_SWAP_PAIRS = ((_ARM_L, _ARM_R), (_LEG_L, _LEG_R), (_ARM_L + _LEG_L, _ARM_R + _LEG_R))
_GLITCH_JOINTS = np.array([5, 6, 7, 9, 10, 11, 13, 14, 15, 17, 18, 19, 21, 22, 23, 24])


# ----------------------------------------------------------------------------- subjects

def subject_traits(seed: int, subjects) -> dict[str, np.ndarray]:
    """Body and style traits of performers ``subjects`` (1-based ids); each a function of (seed, id).

    Returns arrays of shape (S,) (``style``: (S, 8)): height in metres, segment ratios,
    tempo and amplitude factors, posture angles in degrees.
    """
    rows = []
    for s in np.atleast_1d(subjects):
        g = np.random.default_rng([int(seed), 101, int(s)])
        n = g.standard_normal(8)
        rows.append(dict(
            height=1.5 + 0.45 * g.random(),
            torso=1 + 0.035 * n[0], legs=1 + 0.035 * n[1], arms=1 + 0.04 * n[2],
            shoulders=1 + 0.07 * n[3], hips=1 + 0.08 * n[4], head=1 + 0.05 * n[5],
            tempo=float(np.exp(0.15 * np.clip(n[6], -2, 2))),
            amplitude=float(np.exp(0.12 * np.clip(n[7], -2, 2))),
            left_handed=float(g.random() < 0.15),
            slouch=g.uniform(0, 12), head_tilt=g.uniform(-5, 12), arm_carry=g.uniform(3, 14),
            elbow_rest=g.uniform(5, 25), knee_rest=g.uniform(0, 8), stance=g.uniform(2, 8),
            style=g.random(8)))
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def rest_offsets(traits: dict[str, np.ndarray]) -> np.ndarray:
    """Bone offsets from the kinematic parent in the rest pose: (S, 25, 3), metres.

    Body frame: x to the body's right, y up, z backwards (the camera frame of a person facing
    the camera). Fractions of the height follow standard anthropometric tables, roughly.
    """
    h = traits["height"][:, None]
    torso, legs, arms = (traits[k][:, None] * h for k in ("torso", "legs", "arms"))
    sw = 0.095 * traits["shoulders"][:, None] * h
    hw = 0.048 * traits["hips"][:, None] * h
    head = 0.085 * traits["head"][:, None] * h
    z = np.zeros_like(h)
    off = np.zeros((len(h), 25, 3))

    def put(j, x, y, zz):
        off[:, j] = np.concatenate([x + z, y + z, zz + z], axis=1)

    put(1, 0, 0.125 * torso, 0)
    put(20, 0, 0.135 * torso, 0)
    put(2, 0, 0.045 * torso, 0)
    put(3, 0, head, 0)
    for s in (1, -1):
        up, fore, hand = _ARM[s]
        put(_GIRDLE[s], s * sw, -0.015 * h, 0)
        put(up, 0, -0.165 * arms, 0)
        put(fore, 0, -0.145 * arms, 0)
        put(hand, 0, -0.045 * arms, 0)
        put(23 if s == 1 else 21, 0, -0.05 * arms, 0)                  # hand tip
        put(24 if s == 1 else 22, 0, -0.018 * arms, -0.022 * arms)     # thumb, forwards
        thigh, shin, foot = _LEG[s]
        put(16 if s == 1 else 12, s * hw, -0.03 * h, 0)
        put(thigh, 0, -0.24 * legs, 0)
        put(shin, 0, -0.235 * legs, 0)
        put(foot, 0, -0.02 * h, -0.075 * h)
    return off


# ----------------------------------------------------------------------------- kinematics

def _rot(axis: str, a: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about a body axis by angles ``a`` (radians, right-handed)."""
    c, s = np.cos(a), np.sin(a)
    o, i = np.zeros_like(a), np.ones_like(a)
    rows = {"x": ((i, o, o), (o, c, -s), (o, s, c)),
            "y": ((c, o, s), (o, i, o), (-s, o, c)),
            "z": ((c, -s, o), (s, c, o), (o, o, i))}[axis]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def euler_to_matrix(ang: np.ndarray) -> np.ndarray:
    """``ang: (..., 3)`` radians (rx, ry, rz) -> R = Ry @ Rz @ Rx, (..., 3, 3).

    For a limb hanging down, rx > 0 swings it forwards, rz > 0 towards +x and ry turns the
    result about the vertical.
    """
    cx, sx = np.cos(ang[..., 0]), np.sin(ang[..., 0])
    cy, sy = np.cos(ang[..., 1]), np.sin(ang[..., 1])
    cz, sz = np.cos(ang[..., 2]), np.sin(ang[..., 2])
    r = np.empty(ang.shape + (3,))                  # the product written out: fast and exact
    r[..., 0, 0], r[..., 0, 1], r[..., 0, 2] = cy * cz, sy * sx - cy * sz * cx, cy * sz * sx + sy * cx
    r[..., 1, 0], r[..., 1, 1], r[..., 1, 2] = sz, cz * cx, -cz * sx
    r[..., 2, 0], r[..., 2, 1], r[..., 2, 2] = -sy * cz, sy * sz * cx + cy * sx, cy * cx - sy * sz * sx
    return r


def forward_kinematics(offsets: np.ndarray, ang: np.ndarray, root: np.ndarray,
                       yaw: np.ndarray) -> np.ndarray:
    """Joint positions from local bone rotations.

    offsets: (B, 25, 3) rest offsets; ang: (B, T, 25, 3) radians, the rotation of the segment
    ending at joint j relative to its parent segment; root: (B, T, 3) spine_base position;
    yaw: (B, T) radians about the vertical. Returns (B, T, 25, 3).
    """
    B, T = ang.shape[:2]
    moving = np.abs(ang).reshape(-1, 25, 3).max(axis=(0, 2)) > 0   # bones that ever rotate
    rot = euler_to_matrix(ang[:, :, moving])                       # (B, T, n_moving, 3, 3)
    slot = np.cumsum(moving) - 1
    frame = np.empty((B, T, 25, 3, 3))
    pos = np.empty((B, T, 25, 3))
    frame[:, :, 0] = _rot("y", yaw) @ rot[:, :, 0] if moving[0] else _rot("y", yaw)
    pos[:, :, 0] = root
    for j in _FK_ORDER[1:]:
        p = _FK_PARENT[j]
        frame[:, :, j] = frame[:, :, p] @ rot[:, :, slot[j]] if moving[j] else frame[:, :, p]
        pos[:, :, j] = pos[:, :, p] + np.einsum("btij,bj->bti", frame[:, :, j], offsets[:, j])
    return pos


# ----------------------------------------------------------------------------- poses and actions

def _ramp(t, t0, dur):
    """Smooth step from 0 (t <= t0) to 1 (t >= t0 + dur)."""
    x = np.clip((t - t0) / np.maximum(dur, 1e-3), 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _bump(t, t0, rise, hold, fall):
    """0 -> 1 over ``rise`` from ``t0``, stays 1 for ``hold``, back to 0 over ``fall``."""
    return _ramp(t, t0, rise) * (1 - _ramp(t, t0 + rise + hold, fall))


class Pose:
    """Joint-angle offsets (degrees) of one body for a batch: ``ang: (B, T, 25, 3)``."""

    def __init__(self, B: int, T: int):
        self.ang = np.zeros((B, T, 25, 3))
        self.lift = np.zeros((B, T))          # extra pelvis height (flight), metres
        self.shift = np.zeros((B, T, 3))      # extra pelvis displacement in the body frame
        self.yaw = np.zeros((B, T))           # extra body turn, degrees

    def arm(self, side, flex=0.0, abd=0.0, add=0.0, elbow=0.0, elbow_abd=0.0, wrist=0.0):
        """Shoulder flexion (forwards), abduction (outwards), horizontal adduction (inwards),
        elbow flexion / abduction and wrist flexion of one arm; ``side`` +1 right, -1 left."""
        up, fore, hand = _ARM[side]
        self.ang[:, :, up] += _stack(flex, side * add, side * abd)
        self.ang[:, :, fore] += _stack(elbow, 0.0, side * elbow_abd)
        self.ang[:, :, hand] += _stack(wrist, 0.0, 0.0)

    def leg(self, side, hip=0.0, knee=0.0, abd=0.0):
        """Hip flexion (thigh forwards), knee flexion (shin backwards), hip abduction."""
        thigh, shin, _ = _LEG[side]
        self.ang[:, :, thigh] += _stack(hip, 0.0, side * abd)
        self.ang[:, :, shin] += _stack(-knee, 0.0, 0.0)

    def trunk(self, flex=0.0, twist=0.0, lean=0.0):
        """Forward bend, twist (right shoulder forwards) and sideways lean (to the right), degrees."""
        for j, w in ((1, 0.55), (20, 0.45)):
            self.ang[:, :, j] += w * _stack(-flex, twist, -lean)

    def head(self, nod=0.0, turn=0.0):
        self.ang[:, :, 3] += _stack(-nod, turn, 0.0)

    def mirror(self, mask) -> None:
        """Swap left and right for the samples in ``mask`` (B,): the same action done by a
        left-handed performer."""
        m = np.asarray(mask, bool).reshape(-1)
        a = self.ang[m][:, :, list(NTU25.flip_permutation)]
        a[..., 1:] *= -1                                  # turns and sideways angles change sign
        self.ang[m] = a
        self.shift[m, :, 0] *= -1
        self.yaw[m] *= -1

    def both_arms(self, **kw):
        for s in (1, -1):
            self.arm(s, **kw)

    def both_legs(self, **kw):
        for s in (1, -1):
            self.leg(s, **kw)


def _stack(x, y, z):
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


@dataclass
class _Ctx:
    """What an action sees: time (B, T) in seconds from the action's start, and parameters."""

    t: np.ndarray
    u: np.ndarray                 # (B, K) uniforms, already mixed with the subject's style
    tempo: np.ndarray             # (B, 1)
    amplitude: np.ndarray         # (B, 1)
    k: int = 0
    duration: np.ndarray | None = None
    bodies: list = field(default_factory=list)

    def par(self, lo, hi):
        """The next per-sample parameter, uniform in [lo, hi]: (B, 1)."""
        v = lo + (hi - lo) * self.u[:, self.k:self.k + 1]
        self.k += 1
        return v

    def dur(self, lo, hi):
        """A duration in seconds, divided by the performer's tempo."""
        return self.par(lo, hi) / self.tempo

    def amp(self, lo, hi):
        """An angle, scaled by the performer's amplitude."""
        return self.par(lo, hi) * self.amplitude

    def count(self, lo, hi):
        """An integer in [lo, hi]."""
        return np.floor(self.par(lo, hi + 1 - 1e-9))

    def pose(self) -> Pose:
        p = Pose(*self.t.shape)
        self.bodies.append(p)
        return p


def _hand_up(c: _Ctx, side: int, wave: bool):
    """One arm raised sideways with the forearm up; waving swings the forearm, raising holds it.
    Small waves and a fidgety raised hand meet: the pair differs mostly in amplitude."""
    p = c.pose()
    rise, fall = c.dur(0.35, 0.7), c.dur(0.35, 0.7)
    if wave:
        f = c.par(1.4, 2.8) * c.tempo
        hold = c.count(1, 4) / f
        abd, tilt, A = c.amp(60, 130), c.par(-10, 30), c.amp(10, 35)
    else:
        f = c.par(0.5, 1.5) * c.tempo
        hold = c.dur(0.5, 1.5)
        abd, tilt, A = np.minimum(c.amp(100, 170), 175), c.par(-20, 10), c.par(0, 6)
    flex = c.par(0, 35)
    env = _bump(c.t, 0, rise, hold, fall)
    osc = A * np.sin(2 * np.pi * f * (c.t - rise)) * _bump(c.t, rise, 0.1, np.maximum(hold - 0.2, 0), 0.1)
    p.arm(side, flex=flex * env, abd=abd * env, elbow_abd=np.maximum(180 - abd - tilt, 0) * env + osc,
          wrist=0.3 * osc)
    p.trunk(lean=-side * 3 * env)
    c.duration = rise + hold + fall


def _clap(c: _Ctx):
    p = c.pose()
    rise, fall = c.dur(0.3, 0.6), c.dur(0.3, 0.6)
    f = c.par(2.0, 3.2) * c.tempo
    hold = c.count(1, 4) / f
    flex, elbow, meet, A = c.amp(30, 95), c.par(40, 90), c.par(22, 32), c.amp(12, 28)
    env = _bump(c.t, 0, rise, hold, fall)
    opening = A * 0.5 * (1 + np.cos(2 * np.pi * f * (c.t - rise))) * _bump(c.t, rise, 0.1, hold - 0.2, 0.1)
    p.both_arms(flex=flex * env, elbow=elbow * env, add=meet * env - opening)
    p.head(nod=5 * env)
    c.duration = rise + hold + fall


def _shake_head(c: _Ctx):
    """The head turns left and right 2-4 times; the mean pose is that of standing still."""
    p = c.pose()
    f = c.par(1.2, 2.2) * c.tempo
    hold = c.count(1, 4) / f
    A, ramp = c.amp(20, 45), c.dur(0.1, 0.3)
    env = _bump(c.t, 0, ramp, hold, ramp)
    turn = A * np.sin(2 * np.pi * f * c.t + 2 * np.pi * c.par(0, 1)) * env
    p.head(turn=turn, nod=c.par(-5, 10) * env)
    p.ang[:, :, 2, 1] += 0.3 * turn                     # the neck follows a little
    c.duration = 2 * ramp + hold


def _jump(c: _Ctx):
    p = c.pose()
    n = c.count(1, 2)
    crouch, flight, gap = c.dur(0.3, 0.5), c.par(0.3, 0.5), c.dur(0.3, 0.7)
    hip, knee, lean, swing = c.amp(25, 60), c.amp(45, 100), c.par(10, 30), c.amp(40, 130)
    dip = np.zeros_like(c.t)
    air = np.zeros_like(c.t)
    arms = np.zeros_like(c.t)
    t0 = np.zeros_like(crouch)
    for i in range(2):
        on = (n > i).astype(float)
        take = t0 + crouch + 0.12
        dip += on * (_bump(c.t, t0, crouch, 0, 0.12) + _bump(c.t, take + flight, 0.1, 0, 0.35 / c.tempo))
        s = np.clip((c.t - take) / flight, 0, 1)
        air += on * (4 * s * (1 - s)) * (9.81 * flight ** 2 / 8)      # ballistic apex g t^2 / 8
        arms += on * (-0.4 * _bump(c.t, t0, crouch, 0, 0.12)
                      + _bump(c.t, take - 0.1, 0.15, flight - 0.1, 0.3))
        t0 = take + flight + 0.45 / c.tempo + gap
    p.both_legs(hip=hip * dip, knee=knee * dip)
    p.trunk(flex=lean * dip)
    p.both_arms(flex=swing * arms, elbow=20 * np.abs(arms))
    feet = -30 * (air > 0)                                            # toes point down in flight
    for s in (1, -1):
        p.ang[:, :, _LEG[s][2], 0] += feet
    p.lift += air
    c.duration = t0 - gap


def _squat(c: _Ctx):
    p = c.pose()
    n = c.count(1, 2)
    down, hold, up = c.dur(0.8, 1.4), c.dur(0.1, 0.6), c.dur(0.8, 1.3)
    hip, ratio, arms = c.amp(55, 105), c.par(1.15, 1.35), c.par(0, 90)
    cycle = down + hold + up + 0.2
    env = _bump(c.t, 0, down, hold, up) + (n > 1) * _bump(c.t, cycle, down, hold, up)
    p.both_legs(hip=hip * env, knee=hip * ratio * env)
    p.trunk(flex=0.45 * hip * env)
    p.both_arms(flex=arms * env, elbow=10 * env)
    c.duration = cycle * n - 0.2


def _kick(c: _Ctx, side: int = 1):
    p = c.pose()
    wind, strike, hold, back = c.dur(0.25, 0.45), c.dur(0.12, 0.25), c.dur(0.05, 0.2), c.dur(0.4, 0.7)
    hip, knee_end, balance = c.amp(40, 90), c.par(5, 25), c.amp(10, 40)
    front = c.par(0, 1) > 0.3                            # else a side kick (hip abduction)
    up = _ramp(c.t, 0, wind)
    kick = _ramp(c.t, wind, strike)
    down = _ramp(c.t, wind + strike + hold, back)
    swing = (-15 * up + (hip + 15) * kick) * (1 - down)
    p.leg(side, hip=swing * front, abd=0.7 * swing * ~front,
          knee=(70 * up - (70 - knee_end) * kick) * (1 - down))
    env = up * (1 - down)
    p.both_arms(abd=balance * env)
    p.arm(-side, flex=0.5 * balance * env)
    p.trunk(flex=-8 * kick * (1 - down), lean=-side * 6 * env)
    c.duration = wind + strike + hold + back


def _punch(c: _Ctx, side: int = 1):
    p = c.pose()
    guard_up, guard_down = c.dur(0.3, 0.5), c.dur(0.3, 0.5)
    g_flex, g_elbow, guarded = c.par(20, 70), c.par(80, 130), c.par(0, 1) < 0.6
    n = c.count(1, 3)
    ext, hold, ret, gap = c.dur(0.12, 0.3), c.dur(0.04, 0.2), c.dur(0.2, 0.4), c.dur(0.15, 0.4)
    reach, twist = c.amp(70, 100), c.amp(5, 20)
    shot = np.zeros_like(c.t)
    for i in range(3):
        t0 = guard_up + i * (ext + hold + ret + gap)
        shot += (n > i) * _bump(c.t, t0, ext, hold, ret)
    active = guard_up + n * (ext + hold + ret + gap)
    guard = _bump(c.t, 0, guard_up, active - guard_up, guard_down)
    p.arm(-side, flex=g_flex * guard * guarded, elbow=g_elbow * guard * guarded, add=15 * guard * guarded)
    p.arm(side, flex=g_flex * guard, elbow=g_elbow * guard, add=15 * guard)
    p.arm(side, flex=(reach - g_flex) * shot, elbow=-(g_elbow - 10) * shot, add=-5 * shot)
    p.trunk(twist=side * twist * shot)
    c.duration = active + guard_down


def _reach(c: _Ctx, side: int = 1):
    p = c.pose()
    go, hold, back = c.dur(0.45, 1.1), c.dur(0.2, 1.0), c.dur(0.5, 1.1)
    flex, add, lean = c.amp(50, 110), c.par(0, 20), c.par(0, 25)
    env = _bump(c.t, 0, go, hold, back)
    grasp = _bump(c.t, go, 0.2, hold - 0.3, 0.2)
    p.arm(side, flex=flex * env, add=add * env, elbow=-10 * env, wrist=25 * grasp)
    p.trunk(flex=lean * env, twist=side * 5 * env)
    c.duration = go + hold + back


def _bow(c: _Ctx):
    p = c.pose()
    down, hold, up = c.dur(0.6, 1.2), c.dur(0.3, 1.0), c.dur(0.7, 1.3)
    angle, hang, knee = c.amp(15, 65), c.par(0.4, 0.9), c.par(0, 10)
    env = _bump(c.t, 0, down, hold, up)
    p.trunk(flex=angle * env)
    p.head(nod=c.par(0, 15) * env)
    p.both_arms(flex=hang * angle * env)
    p.both_legs(hip=0.5 * knee * env, knee=knee * env)
    c.duration = down + hold + up


def _walk(c: _Ctx):
    p = c.pose()
    f = c.par(0.75, 1.05) * c.tempo
    steps = c.count(1, 4)
    start, stop = c.dur(0.2, 0.4), c.dur(0.2, 0.4)
    lift, ratio, swing, elbow = c.amp(15, 50), c.par(1.6, 2.2), c.amp(10, 35), c.par(15, 50)
    hold = steps / f
    env = _bump(c.t, 0, start, hold, stop)
    ph = np.sin(2 * np.pi * f * (c.t - start))
    for s in (1, -1):
        lift_s = lift * np.maximum(0, s * ph) * env
        p.leg(s, hip=lift_s, knee=ratio * lift_s)
        p.arm(s, flex=-s * swing * ph * env, elbow=elbow * env)
    p.trunk(lean=3 * ph * env)
    c.duration = start + hold + stop


def _sit(c: _Ctx, standing_up: bool):
    """Sit down on a chair (or, reversed, stand up from it): hips and knees flex together so
    the shins stay vertical and the feet planted; the trunk leans forwards mid-way."""
    p = c.pose()
    move, seated = c.dur(1.0, 1.8), c.dur(0.3, 1.0)
    hip, lean, rest, hands = c.amp(80, 100), c.amp(20, 40), c.par(0, 10), c.par(0, 1)
    if standing_up:
        s = 1 - _ramp(c.t, seated, move)                      # 1 = seated at the start
        peak = _bump(c.t, seated - 0.2 * move, 0.45 * move, 0, 0.6 * move)
    else:
        s = _ramp(c.t, 0, move)
        peak = _bump(c.t, 0.1 * move, 0.4 * move, 0, 0.5 * move)
    p.both_legs(hip=hip * s, knee=hip * s)
    p.trunk(flex=lean * peak + rest * s)
    on_thighs = (hands > 0.5)
    p.both_arms(flex=(25 * on_thighs + 10) * s + 20 * peak, elbow=(50 * on_thighs) * s)
    c.duration = move + seated


def _handshake(c: _Ctx):
    """Two people facing each other extend their right hands and shake them up and down."""
    lag = c.par(0.05, 0.3)
    rise, fall = c.dur(0.5, 0.9), c.dur(0.5, 0.9)
    f = c.par(2.5, 4.0) * c.tempo
    hold = c.count(2, 4) / f
    flex, add, elbow, A = c.par(40, 60), c.par(10, 25), c.par(25, 45), c.par(4, 9)
    for delay in (0.0, lag):
        p = c.pose()
        env = _bump(c.t, delay, rise, hold, fall)
        shake = (A * np.sin(2 * np.pi * f * (c.t - lag - rise))
                 * _bump(c.t, lag + rise, 0.05, hold - 0.1, 0.05))
        p.arm(1, flex=flex * env + shake, add=add * env, elbow=elbow * env + 0.5 * shake)
        p.trunk(flex=5 * env)
    c.duration = lag + rise + hold + fall


@dataclass(frozen=True)
class ActionClass:
    name: str
    kinematics: str
    make: object
    persons: int = 1
    handed: bool = False      # done with the performer's dominant side (mirrored if left-handed)


ACTIONS: tuple[ActionClass, ...] = (
    ActionClass("wave right hand", "right arm raised sideways, forearm up and swinging 1-4 times "
                "at 1.4-2.8 Hz", lambda c: _hand_up(c, 1, wave=True)),
    ActionClass("wave left hand", "the same with the left arm (subtle pair: left vs right)",
                lambda c: _hand_up(c, -1, wave=True)),
    ActionClass("raise right hand", "right hand raised high and held still (subtle pair with "
                "wave right: amplitude of the swing)", lambda c: _hand_up(c, 1, wave=False)),
    ActionClass("clap", "both arms forward, elbows bent, hands meeting 3-6 times at 2-3 Hz", _clap),
    ActionClass("shake head", "the head turns left and right by 20-45 deg 2-4 times at 1.2-2.2 Hz "
                "(no change of the mean pose)", _shake_head),
    ActionClass("jump", "crouch with arms back, ballistic flight of 0.3-0.5 s (g = 9.81), "
                "landing; once or twice", _jump),
    ActionClass("squat", "hips and knees flex to 55-105 deg, trunk leans, arms forward; 1-2 times",
                _squat),
    ActionClass("kick", "the dominant leg winds up, then the knee extends as the hip flexes "
                "40-90 deg (30 %: a side kick)", _kick, handed=True),
    ActionClass("punch", "the dominant arm extends forward fast (0.12-0.3 s) 1-3 times with a "
                "trunk twist, the other arm often on guard", _punch, handed=True),
    ActionClass("reach forward", "the dominant arm extends forward slowly, grasps, returns "
                "(subtle pair with punch: tempo and guard)", _reach, handed=True),
    ActionClass("bow", "trunk bends forward 15-65 deg with the arms hanging, holds, rises", _bow),
    ActionClass("walk in place", "alternating hip and knee lifts at 0.75-1.05 Hz with opposite "
                "arm swing", _walk),
    ActionClass("sit down", "hips and knees flex together to a chair seat, trunk leans forward "
                "mid-way, feet planted", lambda c: _sit(c, False)),
    ActionClass("stand up", "from the chair: lean forward, then hips and knees extend (near "
                "time-reverse of sit down)", lambda c: _sit(c, True)),
    ActionClass("handshake", "two people facing each other, right hands extended and shaken "
                "2-4 times at 2.5-4 Hz", _handshake, persons=2),
)
CLASS_NAMES = [a.name for a in ACTIONS]


def describe(as_text: bool = False):
    """The class list: ``[{"label", "name", "persons", "kinematics"}]``, or a text table."""
    rows = [dict(label=i, name=a.name, persons=a.persons, kinematics=a.kinematics)
            for i, a in enumerate(ACTIONS)]
    if not as_text:
        return rows
    w = max(len(r["name"]) for r in rows)
    return "\n".join(f"{r['label']:>2}  {r['name']:<{w}}  {r['persons']}  {r['kinematics']}" for r in rows)


# ----------------------------------------------------------------------------- one class, all performances

_U_ACTION, _U_IDLE = 24, 22


def _base_pose(p: Pose, tr: dict, idle: np.ndarray, t: np.ndarray) -> None:
    """Posture of the performer plus slow idle sway, added to an action's pose."""
    col = lambda k: tr[k][:, None]                                  # noqa: E731  (B, 1)
    sway = lambda i, amp: amp * np.sin(2 * np.pi * (0.15 + 0.3 * idle[:, i:i + 1]) * t  # noqa: E731
                                       + 2 * np.pi * idle[:, i + 1:i + 2])
    p.trunk(flex=col("slouch") + sway(0, 2.0), lean=sway(2, 1.5))
    p.yaw += sway(20, 10.0)                                          # the body turns a little
    p.head(nod=col("head_tilt") + sway(4, 4.0), turn=sway(6, 6.0))
    for s, i in ((1, 8), (-1, 10)):
        p.arm(s, abd=col("arm_carry"), elbow=col("elbow_rest") + sway(i, 4.0), flex=sway(i, 3.0))
        p.leg(s, hip=0.5 * col("knee_rest"), knee=col("knee_rest"), abd=col("stance"))


def _gesture(p: Pose, t: np.ndarray, t0, t1, u: np.ndarray) -> None:
    """A fidget in an idle window [t0, t1] (B, 1) seconds: hands on hips, arms crossed, hand to
    the chin, scratching the head, hands behind the back, looking around, or nothing."""
    on = _bump(t, t0 + 0.1, 0.35, np.maximum(t1 - t0 - 0.9, 0), 0.35) * ((t1 - t0) > 0.8)
    kind = np.floor(u[:, 0:1] * 8)
    side = np.where(u[:, 1:2] < 0.6, 1, -1)
    osc = np.sin(2 * np.pi * (2 + 2 * u[:, 2:3]) * t)
    g = lambda k: on * (kind == k)                                  # noqa: E731
    p.both_arms(abd=35 * g(0), flex=-10 * g(0), elbow_abd=-80 * g(0))             # hands on hips
    p.both_arms(flex=35 * g(1), add=45 * g(1), elbow=100 * g(1))                 # arms crossed
    p.both_arms(flex=-25 * g(4), add=-15 * g(4), elbow=50 * g(4))                # behind the back
    p.head(turn=40 * np.sin(2 * np.pi * 0.4 * t + 6 * u[:, 3:4]) * g(5))          # look around
    for s in (1, -1):
        mine = (side == s)
        p.arm(s, flex=45 * g(2) * mine, add=30 * g(2) * mine, elbow=125 * g(2) * mine)  # chin
        p.arm(s, flex=30 * g(3) * mine, abd=95 * g(3) * mine,                     # scratch head
              elbow_abd=(120 + 10 * osc) * g(3) * mine)


def _root_from_legs(p: Pose, off: np.ndarray, height: np.ndarray) -> np.ndarray:
    """Pelvis (spine_base) position in the body frame so that the supporting foot stays on the
    floor: the leg whose hip and knee angles give the higher hip carries the body. (B, T, 3)."""
    hips = []
    for s in (1, -1):
        thigh, shin, foot = _LEG[s]
        a = np.radians(p.ang[:, :, thigh, 0])
        g = a + np.radians(p.ang[:, :, shin, 0])                    # shin pitch in the body frame
        lt, ls = -off[:, thigh, 1:2], -off[:, shin, 1:2]
        hips.append((lt * np.cos(a) + ls * np.cos(g), lt * np.sin(a) + ls * np.sin(g)))
        p.ang[:, :, foot, 0] -= np.degrees(g)                       # keep the foot level
    support = hips[0][0] >= hips[1][0]
    y = np.where(support, hips[0][0], hips[1][0])
    z = np.where(support, hips[0][1], hips[1][1])
    ankle, drop = 0.045 * height, -off[:, 16, 1:2]                 # ankle 0.045 H above the floor
    root = np.stack([np.zeros_like(y), ankle + y + drop, z], axis=-1)
    root[..., 1] += p.lift
    return root + p.shift


def _world_bodies(action: ActionClass, traits: list[dict], u: np.ndarray, idle: np.ndarray,
                  timing: np.ndarray, T: int, facing: np.ndarray, spot: np.ndarray,
                  apart: np.ndarray, pre: int = 0):
    """World positions (B, M, T, 25, 3) (floor y = 0) and valid lengths (B,) for one class.

    traits: per body, a dict of (B,) arrays; u: (B, K) style-mixed uniforms; idle: (B, 2, K2);
    timing: (B, 3) uniforms for the idle time before and after the action and the tempo;
    facing: (B,) yaw degrees; spot: (B, 3) floor position;
    apart: (B,) distance between two people; pre: frames of idle simulated before frame 0
    (returned first: the time axis has T + pre frames, the valid lengths count from frame pre).
    """
    B = len(u)
    tempo = traits[0]["tempo"][:, None] * (0.75 + 0.55 * timing[:, 2:3])   # this performance
    kw = dict(u=u, tempo=tempo, amplitude=traits[0]["amplitude"][:, None])
    dry = _Ctx(t=np.zeros((B, 1)), **kw)                  # only for the duration
    action.make(dry)
    dur = np.asarray(dry.duration, dtype=float).reshape(B)
    tail = 0.1 + 1.4 * timing[:, 1]
    budget = MAX_FRAMES / FPS - 0.05
    # random onset: the idle lead takes a random share of the time left after the action
    lead = 0.1 + timing[:, 0] * np.maximum(budget - dur - tail - 0.1, 0)
    length = np.clip(np.round((lead + dur + tail) * FPS), MIN_FRAMES, min(MAX_FRAMES, T)).astype(np.int64)
    t_abs = (np.arange(T + pre)[None, :] - pre) / FPS
    t = t_abs - lead[:, None]
    ctx = _Ctx(t=t, **kw)
    action.make(ctx)
    dur = dur[:, None]
    out = np.zeros((B, 2, T + pre, 25, 3))
    for m, p in enumerate(ctx.bodies):
        tr = traits[m]
        if action.handed:
            p.mirror(tr["left_handed"] > 0)
        _base_pose(p, tr, idle[:, m], t_abs)
        _gesture(p, t, -lead[:, None], np.zeros((B, 1)), idle[:, m, 12:16])
        _gesture(p, t, dur, dur + tail[:, None], idle[:, m, 16:20])
        off = rest_offsets(tr)
        root = _root_from_legs(p, off, tr["height"][:, None])
        yaw = np.radians(p.yaw + facing[:, None] + (90.0 if action.persons == 2 else 0.0) + 180.0 * m)
        c, s = np.cos(yaw), np.sin(yaw)                  # turn the body-frame pelvis with the body
        rx, rz = root[..., 0], root[..., 2]
        world_root = np.stack([c * rx + s * rz, root[..., 1], -s * rx + c * rz], axis=-1)
        if action.persons == 2:                      # the pair stands face to face, apart/2 each side
            fwd = np.stack([-np.sin(yaw[:, 0]), np.zeros(B), -np.cos(yaw[:, 0])], axis=-1)
            world_root = world_root - (apart[:, None] / 2)[..., None] * fwd[:, None]
        pos = forward_kinematics(off, np.radians(p.ang), world_root + spot[:, None], yaw)
        out[:, m] = pos
    return out, length


# ----------------------------------------------------------------------------- cameras and sensor

def camera_frames(az_deg, distance, height, aim_height, roll_deg):
    """Camera centres (B, 3) and world-to-camera rotations (B, 3, 3) (rows = camera axes).

    A camera at azimuth 0 stands in front of a performer facing -z; positive azimuths go round
    towards the performer's left, like their facing yaw.
    """
    a = np.radians(az_deg)
    centre = np.stack([-distance * np.sin(a), height, -distance * np.cos(a)], axis=-1)
    target = np.stack([np.zeros_like(a), aim_height, np.zeros_like(a)], axis=-1)
    f = target - centre
    f /= np.linalg.norm(f, axis=-1, keepdims=True)
    x = np.cross(np.array([0.0, 1.0, 0.0]), f)
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    y = np.cross(f, x)
    r = np.radians(roll_deg)[:, None]
    x, y = np.cos(r) * x + np.sin(r) * y, -np.sin(r) * x + np.cos(r) * y
    return centre, np.stack([x, y, f], axis=1)


def _sensor(xc: np.ndarray, normals: np.ndarray, glitch: np.ndarray, lengths: np.ndarray,
            noise: bool, glitches: bool, noise_scale: float, glitch_rate: float,
            side: np.ndarray | None = None, swap: np.ndarray | None = None) -> np.ndarray:
    """Kinect-like jitter and glitches. xc, normals: (B, M, T, 25, 3) camera space, metres;
    glitch: (B, M, 3, 8) uniforms (p, joint, start, duration, kind, dx, dy, dz); lengths: (B,);
    side: (B,) |sin| of the angle between the performer's facing and the camera (1 = side view);
    swap: (B, M, 4) uniforms (p, start, duration, which limbs) for left/right swaps."""
    out = xc.copy()
    if glitches and side is not None:
        # Kinect confuses left and right limbs of a body seen from the side: for a stretch of
        # frames the tracker labels the left arm and/or leg as the right one and vice versa.
        for b, m in zip(*np.nonzero(swap[..., 0] < SWAP_RATE * side[:, None] ** 2)):
            L, u = lengths[b], swap[b, m]
            t0 = int(u[1] * 0.7 * L)
            sl = slice(t0, min(L, t0 + int((0.15 + 0.5 * u[2]) * L)))
            pairs = _SWAP_PAIRS[int(u[3] * 3)]
            perm = np.arange(25)
            perm[pairs[0]], perm[pairs[1]] = pairs[1], pairs[0]
            out[b, m, sl] = out[b, m, sl][:, perm]
    if noise:
        rho = 0.75
        e = lfilter([np.sqrt(1 - rho ** 2)], [1, -rho], normals, axis=2)   # AR(1), unit variance
        behind = np.clip((xc[..., 2] - xc[..., 1:2, 2]) / 0.12, 0, 1)     # hidden behind the torso
        # hidden joints are inferred by the tracker: they lag and sag towards the torso
        w = 0.8 * behind[..., None] ** 2
        lagged = lfilter([0.4], [1, -0.6], xc, axis=2, zi=0.6 * xc[:, :, :1] * np.ones((1, 1, 1, 1, 1)))[0]
        out = (1 - w) * out + w * (0.75 * lagged + 0.25 * xc[..., 1:2, :])
        sigma = 0.006 * noise_scale * _NOISY * (1 + 2.0 * behind)
        out += e * sigma[..., None] * np.array([1.0, 1.0, 1.4])
    if glitches:
        for b, m, k in zip(*np.nonzero(glitch[..., 0] < glitch_rate)):
            g, L = glitch[b, m, k], lengths[b]
            j = _GLITCH_JOINTS[int(g[1] * len(_GLITCH_JOINTS))]
            t0 = int(g[2] * L)
            sl = slice(t0, min(L, t0 + 2 + int(g[3] * 7)))
            if g[4] < 0.5:                       # the joint jumps away
                out[b, m, sl, j] += (g[5:8] - 0.5) * np.array([0.5, 0.5, 0.3])
            else:                                # the joint snaps onto the pelvis or a hand
                other = (0, 1, 7, 11)[int(g[4] * 8) % 4]
                out[b, m, sl, j] = out[b, m, sl, other] + 0.02 * (g[5:8] - 0.5)
    return out


# ----------------------------------------------------------------------------- the dataset

def _xsub_train(subject: np.ndarray) -> np.ndarray:
    return np.array([s in XSUB_TRAIN_SUBJECTS if s <= 106 else s % 2 == 1 for s in subject])


def _resolve(num_subjects, repetitions, size):
    if size not in SIZES:
        raise ValueError(f"make_synthetic: size must be one of {sorted(SIZES)}, got {size!r}")
    n, r = SIZES[size]
    n = n if num_subjects is None else int(num_subjects)
    return n, (r if repetitions is None else int(repetitions))


def make_synthetic(seed: int = 0, num_subjects: int | None = None, repetitions: int | None = None,
                   t_max: int = 150, *, size: str = "full", classes=None, noise: bool = True,
                   glitches: bool = True, noise_scale: float = 1.0, glitch_rate: float = 0.25,
                   cache: bool | None = None) -> SkeletonData:
    """Generate the embedded dataset (see the module docstring).

    num_subjects / repetitions default to the ``size`` preset ("full": 40 and 2, "small": 10 and
    1, "tiny": 4 and 1). ``classes``: label indices to keep (default all 15; labels stay the
    global ones). ``noise=False, glitches=False`` gives the exact kinematics. ``cache``: read /
    write an .npz under ``skelcl_lib.env.cache_dir()`` keyed by every parameter (default: only
    for the full size). The same arguments always give bit-identical arrays.
    """
    num_subjects, repetitions = _resolve(num_subjects, repetitions, size)
    if num_subjects < 1 or repetitions < 1 or t_max < 1:
        raise ValueError("make_synthetic: num_subjects, repetitions and t_max must be >= 1")
    classes = list(range(len(ACTIONS))) if classes is None else sorted(int(c) for c in classes)
    params = dict(version=GENERATOR_VERSION, seed=int(seed), num_subjects=num_subjects,
                  repetitions=repetitions, t_max=int(t_max), classes=classes, noise=bool(noise),
                  glitches=bool(glitches), noise_scale=float(noise_scale), glitch_rate=float(glitch_rate))
    if cache is None:
        cache = num_subjects * repetitions * len(classes) >= 400
    path = _cache_path(params) if cache else None
    if path is not None and path.exists():
        try:
            return _from_npz(path)
        except Exception:            # a broken cache file is regenerated, never trusted
            path.unlink(missing_ok=True)
    data = _generate(**{k: v for k, v in params.items() if k != "version"})
    if path is not None:
        _to_npz(path, data, params)
    return data


def _generate(seed, num_subjects, repetitions, t_max, classes, noise, glitches, noise_scale, glitch_rate):
    subjects = np.arange(1, num_subjects + 1)
    traits = subject_traits(seed, subjects)
    partners = subject_traits(seed, 1000 + subjects)   # each performer brings the same partner
    views = sorted(CAMERA_AZIMUTH_DEG)
    V, T = len(views), t_max
    reps = np.arange(1, repetitions + 1)
    per_class = num_subjects * repetitions
    N = len(classes) * per_class * V
    x = np.zeros((N, 3, T, 25, 2), dtype=np.float32)
    y = np.empty(N, np.int64)
    subj = np.empty(N, np.int64)
    view = np.empty(N, np.int64)
    rep = np.empty(N, np.int64)
    lengths = np.empty(N, np.int64)
    row = 0
    for label in classes:
        action = ACTIONS[label]
        M = action.persons
        si, ri = np.repeat(np.arange(num_subjects), repetitions), np.tile(reps, num_subjects)
        draws = [_performance_draws(seed, subjects[i], label, r, V, M, T) for i, r in zip(si, ri)]
        u = np.stack([d["u"] for d in draws])
        style = traits["style"][si]
        u = 0.6 * u + 0.4 * style[:, np.arange(_U_ACTION) % style.shape[1]]
        tr = [{k: v[si] for k, v in traits.items()}, {k: v[si] for k, v in partners.items()}]
        misc = np.stack([d["misc"] for d in draws]) * 2 - 1          # uniform in [-1, 1]
        facing = (np.array([CAMERA_AZIMUTH_DEG[FACED_CAMERA[r % 2]] for r in ri])
                  + FACING_JITTER_DEG * misc[:, 0])
        spot = np.stack([0.8 * misc[:, 1], np.zeros(len(si)), 0.5 * misc[:, 2]], axis=-1)
        world, L = _world_bodies(action, tr, u, np.stack([d["idle"] for d in draws]),
                                 (misc[:, [3, 4, 6]] + 1) / 2, T, facing, spot,
                                 apart=1.1 + 0.15 * misc[:, 5], pre=CAMERA_START_SPREAD)
        for vi, v in enumerate(views):
            cam = np.stack([d["camera"][vi] for d in draws]) * 2 - 1
            (d0, d1), (h0, h1), (a0, a1) = CAMERA_MOUNT[v]
            centre, R = camera_frames(CAMERA_AZIMUTH_DEG[v] + 6 * cam[:, 0],
                                      d0 + (d1 - d0) * (cam[:, 1] + 1) / 2,
                                      h0 + (h1 - h0) * (cam[:, 2] + 1) / 2,
                                      a0 + (a1 - a0) * (cam[:, 3] + 1) / 2, 3 * cam[:, 4])
            # each Kinect starts recording on its own, up to CAMERA_START_SPREAD frames early
            early = np.round((cam[:, 5] + 1) / 2 * CAMERA_START_SPREAD).astype(np.int64)
            # and drops frames now and then (0-15 % per recording): the same performance gets a
            # different time axis in every camera
            drops = np.stack([d["drops"][vi] for d in draws])                        # (B, T)
            step = 1 + (drops[:, 1:] < 0.15 * drops[:, :1])
            frames = CAMERA_START_SPREAD - early[:, None] + np.concatenate(
                [np.zeros((len(si), 1), np.int64), np.cumsum(step, axis=1)], axis=1)  # (B, T)
            Lv = np.clip((frames < CAMERA_START_SPREAD + L[:, None]).sum(axis=1), MIN_FRAMES, T)
            frames = np.minimum(frames, world.shape[2] - 1)
            seen = world[np.arange(len(si))[:, None], :M, frames].transpose(0, 2, 1, 3, 4)
            xc = np.einsum("bij,bmtvj->bmtvi", R, seen - centre[:, None, None, None])
            side = np.abs(np.sin(np.radians(facing - CAMERA_AZIMUTH_DEG[v])))
            xs = _sensor(xc, np.stack([d["normals"][vi] for d in draws]),
                         np.stack([d["glitch"][vi] for d in draws]), Lv, noise, glitches,
                         noise_scale, glitch_rate, side, np.stack([d["swap"][vi] for d in draws]))
            xs *= (np.arange(T)[None, :] < Lv[:, None])[:, None, :, None, None]   # zero padding
            sl = slice(row, row + per_class)
            x[sl, ..., :M] = xs.transpose(0, 4, 2, 3, 1)
            y[sl], subj[sl], view[sl], rep[sl], lengths[sl] = label, subjects[si], v, ri, Lv
            row += per_class
    order = np.lexsort((y, rep, subj, view))                     # NTU name order: camera, performer, ...
    x, y, subj, view, rep, lengths = x[order], y[order], subj[order], view[order], rep[order], lengths[order]
    names = [f"S001C{v:03d}P{s:03d}R{r:03d}A{a + 1:03d}" for v, s, r, a in zip(view, subj, rep, y)]
    splits = {"xsub": _xsub_train(subj), "xview": view != 1}
    return SkeletonData(x=x, y=y, layout=NTU25, subject=subj, view=view, names=names,
                        lengths=lengths, setup=np.ones(N, np.int64), class_names=list(CLASS_NAMES),
                        splits=splits, dataset="synthetic")


def _performance_draws(seed, subject, label, rep, V, M, T) -> dict:
    """Every random number of one performance, from its own stream (seed, subject, action, rep)."""
    g = np.random.default_rng([int(seed), 202, int(subject), int(label), int(rep)])
    return dict(u=g.random(_U_ACTION), idle=g.random((2, _U_IDLE)), misc=g.random(8),
                camera=g.random((V, 6)), glitch=g.random((V, M, 3, 8)),
                normals=g.standard_normal((V, M, T, 25, 3)), swap=g.random((V, M, 4)),
                drops=g.random((V, T)))


# ----------------------------------------------------------------------------- cache

def _cache_path(params: dict):
    """Keyed by every parameter and by this file's source, so an edited generator never
    reads an old cache."""
    src = pathlib.Path(__file__).read_bytes()
    key = hashlib.sha1(json.dumps(params, sort_keys=True).encode() + src).hexdigest()[:16]
    return cache_dir() / f"synthetic_{key}.npz"


def _to_npz(path, data: SkeletonData, params: dict) -> None:
    # a temporary name unique to this process, then an atomic rename: two processes generating
    # the same dataset at once never read or replace a half-written file
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
    np.savez(tmp, x=data.x, y=data.y, subject=data.subject, view=data.view, lengths=data.lengths,
             names=np.array(data.names), params=json.dumps(params))
    tmp.replace(path)


def _from_npz(path) -> SkeletonData:
    with np.load(path) as z:
        subj, view = z["subject"], z["view"]
        return SkeletonData(x=z["x"], y=z["y"], layout=NTU25, subject=subj, view=view,
                            names=z["names"].tolist(), lengths=z["lengths"],
                            setup=np.ones(len(subj), np.int64), class_names=list(CLASS_NAMES),
                            splits={"xsub": _xsub_train(subj), "xview": view != 1},
                            dataset="synthetic")


# ----------------------------------------------------------------------------- command line

def cli(argv: list[str]) -> int:
    """``skelcl synth --out DIR [--seed N] [--protocols xsub xview] [--subjects N] [--size S]``."""
    ap = argparse.ArgumentParser(prog="skelcl synth", description="Generate the embedded dataset "
                                 "and write it in the st-gcn format (DIR/{protocol}/{train,val}_*)")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--protocols", nargs="+", default=["xsub", "xview"], choices=["xsub", "xview"])
    ap.add_argument("--subjects", type=int, default=None, help="number of performers (default: size preset)")
    ap.add_argument("--repetitions", type=int, default=None)
    ap.add_argument("--size", default="full", choices=sorted(SIZES))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    data = make_synthetic(args.seed, args.subjects, args.repetitions, size=args.size)
    print(data.summary())
    print(f"  generated in {time.perf_counter() - t0:.1f} s")
    folders = save_stgcn(args.out, data, args.protocols)
    for p, folder in folders.items():
        print(f"  wrote {p}: {folder}")
    return 0
