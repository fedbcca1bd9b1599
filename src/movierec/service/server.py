"""`serve`: the body of `movierec serve` — build the app and run it under uvicorn."""

from __future__ import annotations

import logging
from dataclasses import replace

import torch
import uvicorn

from movierec.service.app import create_app
from movierec.service.hardening import default_allowed_hosts
from movierec.service.settings import ServiceSettings
from movierec.service.transport import CoalescingHttpToolsProtocol

log = logging.getLogger(__name__)


def serve(settings: ServiceSettings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run until interrupted. One torch thread: many small requests beat one wide matmul.
    Without a Host list in `settings`, only the bound address and loopback names are served;
    without an API key, a warning says who can write and read profiles."""
    if settings.allowed_hosts is None:
        settings = replace(settings, allowed_hosts=default_allowed_hosts(host))
    torch.set_num_threads(1)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    if settings.api_key is None:
        log.warning("no API key (--api-key or MOVIEREC_API_KEY): writes and profile reads are "
                    "open to anyone who can reach http://%s:%d/", host, port)
    log.info("serving %s on http://%s:%d/", settings.model_dir, host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                http=CoalescingHttpToolsProtocol)
