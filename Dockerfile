# syntax=docker/dockerfile:1
# Build a wheel in one stage, install it in a clean slim image that runs as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
# LICENSE too: the build finds it by name and puts it in the wheel (MIT asks for the notice);
# without it the wheel still builds, silently without the licence text.
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY adapters ./adapters
COPY protocols ./protocols
COPY storage ./storage
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 plcbot \
    && mkdir /data && chown plcbot:plcbot /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER plcbot
WORKDIR /home/plcbot
ENV PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_URL=sqlite+aiosqlite:////data/plcbot.db
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
# `plcbot serve` applies database migrations before it starts listening.
CMD ["plcbot", "serve"]
