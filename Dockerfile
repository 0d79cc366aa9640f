# syntax=docker/dockerfile:1
# Two images from one file. The last stage, `production` (the default target), holds
# auth, totals and posting; the command picks the service. `sandbox` adds the Xero
# sandbox, a stand-in for tests and demos that no production image carries.
FROM python:3.11-slim AS base
WORKDIR /app
ENV PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY glbridge ./glbridge
# Each production service by name: a `COPY services` would bring the sandbox along.
COPY services/__init__.py ./services/__init__.py
COPY services/auth ./services/auth
COPY services/totals ./services/totals
COPY services/posting ./services/posting
RUN pip install --no-cache-dir .

# Run from /app (`python -m services.xero_sandbox`): the wheel leaves the sandbox out.
FROM base AS sandbox
COPY services/xero_sandbox ./services/xero_sandbox
USER nobody
CMD ["python", "-m", "services.xero_sandbox"]

FROM base AS production
USER nobody
