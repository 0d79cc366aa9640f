"""`python -m services.auth`: the auth service on AUTH_HOST:AUTH_PORT."""

import uvicorn

from services.auth.main import create_app
from services.auth.settings import AuthSettings
from shared.logging import configure_logging


def main() -> None:
    settings = AuthSettings()
    configure_logging("auth", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
