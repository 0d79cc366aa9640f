"""`python -m services.xero_sandbox`: the sandbox on SANDBOX_HOST:SANDBOX_PORT."""

import logging

from services.xero_sandbox.main import create_app
from services.xero_sandbox.settings import SandboxSettings
from shared.logging import configure_logging
from shared.web import serve


def main() -> None:
    settings = SandboxSettings()
    configure_logging("xero-sandbox", settings.log_level)
    if settings.control_enabled:
        logging.getLogger(__name__).warning("control API enabled under /_control")
    # Answers held back by a timeout fault must not hold up a stop.
    serve(create_app(settings), settings.host, settings.port, timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()
