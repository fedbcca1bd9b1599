"""Refusing, before it starts, a fit that would run out of memory: the closed-form item-item
models (EASE, dae, and the blends holding them) keep a few dense movies x movies float32
matrices while they fit (item2vec one, for scoring), so their need grows with the square of
the catalogue. Each model class states its need (`Scorer.fit_memory`)."""

from __future__ import annotations

from pathlib import Path

from movierec.errors import ConfigError

MEMINFO = Path("/proc/meminfo")
CGROUP = Path("/sys/fs/cgroup")  # cgroup v2: a container's own limit and usage


def available_memory() -> int | None:
    """Bytes new allocations can take: the kernel's MemAvailable, or less where this
    process's cgroup (a container) allows less; None where neither says (not Linux), and the
    check is then skipped."""
    limits = [n for n in (_meminfo_available(), _cgroup_headroom()) if n is not None]
    return min(limits) if limits else None


def _meminfo_available() -> int | None:
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom() -> int | None:
    try:
        limit = (CGROUP / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((CGROUP / "memory.current").read_text()))
    except (OSError, ValueError):
        return None


def _size(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"


def check_fit_memory(preset: str, n_movies: int, need: float) -> None:
    """ConfigError when fitting `preset` on `n_movies` movies needs (about `need` bytes)
    more memory than is available, naming both sizes and what to do instead."""
    available = available_memory()
    if need <= 0 or available is None or need <= available:
        return
    raise ConfigError(
        f"preset {preset!r} holds dense movies x movies matrices while it fits: {n_movies:,} "
        f"movies need about {_size(need)}, and {_size(available)} is available. Fit it on "
        "fewer movies (drop the rarely rated ones first), or pick a ranker whose memory grows "
        "with the movies rather than their square, such as 'ials', 'bpr' or 'two-tower'.")
