"""`serve`: the body of `movierec serve` — build the app and run it under uvicorn."""

from __future__ import annotations

import logging

import torch
import uvicorn

from movierec.service.app import create_app
from movierec.service.settings import ServiceSettings
from movierec.service.transport import CoalescingHttpToolsProtocol


def serve(settings: ServiceSettings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run until interrupted. One torch thread: many small requests beat one wide matmul."""
    torch.set_num_threads(1)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                http=CoalescingHttpToolsProtocol)
