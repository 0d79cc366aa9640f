"""`python -m services.totals`: the totals service on TOTALS_HOST:TOTALS_PORT."""

from services.totals.main import create_app
from services.totals.settings import TotalsSettings
from shared.logging import configure_logging
from shared.web import serve


def main() -> None:
    settings = TotalsSettings()
    configure_logging("totals", settings.log_level, settings.log_format)
    # Event streams never end on their own: give them a few seconds at shutdown.
    serve(create_app(settings), settings.host, settings.port, timeout_graceful_shutdown=3)


if __name__ == "__main__":
    main()
