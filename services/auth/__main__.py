"""`python -m services.auth`: the auth service on AUTH_HOST:AUTH_PORT."""

from services.auth.main import create_app
from services.auth.settings import AuthSettings
from shared.logging import configure_logging
from shared.web import serve


def main() -> None:
    settings = AuthSettings()
    configure_logging("auth", settings.log_level, settings.log_format)
    serve(create_app(settings), settings.host, settings.port)


if __name__ == "__main__":
    main()
