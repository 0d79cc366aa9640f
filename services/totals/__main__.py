"""`python -m services.totals`: the totals service on TOTALS_HOST:TOTALS_PORT."""

import uvicorn

from services.totals.main import create_app
from services.totals.settings import TotalsSettings
from shared.logging import configure_logging


def main() -> None:
    settings = TotalsSettings()
    configure_logging("totals", settings.log_level)
    # Event streams never end on their own: give them a few seconds at shutdown.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_config=None, access_log=False, timeout_graceful_shutdown=3)


if __name__ == "__main__":
    main()
