"""`python -m services.posting`: the posting service on POSTING_HOST:POSTING_PORT."""

from services.posting.main import create_app
from services.posting.settings import PostingSettings
from shared.logging import configure_logging
from shared.settings import refuse_unworkable
from shared.web import serve


def main() -> None:
    settings = refuse_unworkable(PostingSettings)
    configure_logging("posting", settings.log_level, settings.log_format)
    serve(create_app(settings), settings.host, settings.port)


if __name__ == "__main__":
    main()
