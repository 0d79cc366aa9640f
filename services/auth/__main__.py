"""`python -m services.auth`: the auth service on AUTH_HOST:AUTH_PORT."""

from services.auth.main import create_app
from services.auth.settings import AuthSettings
from shared.logging import configure_logging
from shared.settings import XeroSettings, refuse_unworkable
from shared.web import serve


def main() -> None:
    settings = AuthSettings()
    configure_logging("auth", settings.log_level, settings.log_format)
    xero = refuse_unworkable(XeroSettings)
    serve(create_app(settings, xero), settings.host, settings.port)


if __name__ == "__main__":
    main()
