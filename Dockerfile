# Echtzeit's container image (docs/deploy.md). The build context is this checkout:
#
#   docker build -t echtzeit .
#   docker run -d --name echtzeit --env-file echtzeit.env -v echtzeit-data:/data echtzeit
#
# Two stages, the same commands CI runs (.ci/run): the wheel is built from the checkout, then
# scripts/install.sh installs it into /opt/echtzeit/venv (no editable install, no checkout in the
# image). `podman build` needs `--format docker`, or the HEALTHCHECK is dropped.
#
# BASE_IMAGE: a Debian-based image whose python3 is Python 3.11 or newer with its venv module;
# default the official python:3.11-slim-bookworm (Debian 12).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# .dockerignore lets in only what the wheel is built from (never .env, .venv, build/ or .git).
COPY . .
RUN python3 -m venv /tmp/pip \
 && /tmp/pip/bin/python -m pip wheel --no-deps -w /dist .

FROM ${BASE_IMAGE}
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN groupadd --system --gid 10001 echtzeit \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin echtzeit \
 && mkdir -p /data \
 && chown echtzeit:echtzeit /data \
 && chmod 0750 /data
COPY scripts/install.sh /tmp/install.sh
COPY --from=build /dist/ /tmp/dist/
RUN bash /tmp/install.sh /opt/echtzeit/venv /tmp/dist/echtzeit-*.whl \
 && rm -rf /tmp/dist /tmp/install.sh

# Settings come from the environment only (docker run --env-file; .env.example lists them):
# the working directory holds no .env. The ops server (/healthz, /metrics) is on, because the
# HEALTHCHECK needs it; ECHTZEIT_HTTP_PORT=0 would turn it off and make the container unhealthy.
ENV PATH=/opt/echtzeit/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/data \
    ECHTZEIT_DATA_DIR=/data \
    ECHTZEIT_HTTP_HOST=0.0.0.0 \
    ECHTZEIT_HTTP_PORT=8080 \
    ECHTZEIT_WEBHOOK_HOST=0.0.0.0
# SQLite (when ECHTZEIT_DATABASE_URL is empty), recorded replies and saved files live here.
VOLUME ["/data"]
WORKDIR /opt/echtzeit
USER 10001:10001
# 8080 /healthz and /metrics; 8787 signed webhook and Meta; 3000 Slack HTTP mode.
EXPOSE 8080 8787 3000
# `echtzeit run` stops gracefully on SIGTERM within 10 s (docker stop waits 10 s by default).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/opt/echtzeit/venv/bin/python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('ECHTZEIT_HTTP_PORT', '8080'), timeout=4)"]
CMD ["echtzeit", "run"]
