"""`python -m services.posting`: the posting service on POSTING_HOST:POSTING_PORT."""

import uvicorn

from services.posting.main import create_app
from services.posting.settings import PostingSettings
from shared.logging import configure_logging


def main() -> None:
    settings = PostingSettings()
    configure_logging("posting", settings.log_level)
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port,
        log_config=None, access_log=False, loop="uvloop", http="httptools",
    )


if __name__ == "__main__":
    main()
