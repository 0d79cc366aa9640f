# One image for every service; the command picks the service.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY glbridge ./glbridge
RUN pip install --no-cache-dir .
ENV PYTHONUNBUFFERED=1
USER nobody
