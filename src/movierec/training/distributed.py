"""Distributed training with PyTorch's own engine: `torchrun` starts the processes, each
joins the process group (gloo on CPU, nccl on GPU) and trains under DistributedDataParallel.

Nothing here manages processes across machines: `torchrun_command` writes the same command
a user runs on each machine (see docs/scaling.md).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (rank 0 of 1 when alone)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    def device(self, kind: str) -> torch.device:
        """"cpu", or for "cuda" the GPU of this process's local rank."""
        if kind.startswith("cuda") and ":" not in kind:
            return torch.device("cuda", self.local_rank)
        return torch.device(kind)

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints, history and the saved model."""
        return self.rank == 0

    def all_sum(self, value: float) -> float:
        """`value` summed over every process (itself when alone)."""
        if self.size == 1:
            return value
        total = torch.tensor([value], dtype=torch.float64)
        dist.all_reduce(total)
        return float(total.item())

    def barrier(self) -> None:
        if self.size > 1:
            dist.barrier()


def join_process_group(device: str = "cpu") -> World:
    """The World from torchrun's environment, joining its process group; a single World
    when the process was not started by torchrun."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return World()
    if not dist.is_initialized():
        if device.startswith("cuda"):
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))


def leave_process_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now, for the rendezvous of a one-machine run."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def torchrun_command(nproc: int, module_args: Sequence[str], *, module: str = "movierec.cli",
                     host: str = "127.0.0.1", port: int | None = None) -> list[str]:
    """`python -m torch.distributed.run` starting `nproc` copies of `python -m MODULE ARGS`
    on this machine, meeting at host:port."""
    return [sys.executable, "-m", "torch.distributed.run", "--nnodes=1",
            f"--nproc-per-node={nproc}", f"--master-addr={host}",
            f"--master-port={port or free_port(host)}", "-m", module, *module_args]
