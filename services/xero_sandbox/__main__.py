"""`python -m services.xero_sandbox`: the sandbox on SANDBOX_HOST:SANDBOX_PORT."""

import logging

import uvicorn

from services.xero_sandbox.main import create_app
from services.xero_sandbox.settings import SandboxSettings
from shared.logging import configure_logging


def main() -> None:
    settings = SandboxSettings()
    configure_logging("xero-sandbox", settings.log_level)
    if settings.control_enabled:
        logging.getLogger(__name__).warning("control API enabled under /_control")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        # Answers held back by a timeout fault must not hold up a stop.
        timeout_graceful_shutdown=1,
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
