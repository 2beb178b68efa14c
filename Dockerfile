# Unefois gateway image: `docker build -t unefois .` then
# `docker run -p 8000:8000 -v unefois-data:/var/lib/unefois unefois`.
# Secrets (client secrets, signing keys, agency credentials) never enter a layer: they come
# from the environment or are created on first start in the data volume.

FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH="/opt/venv/bin:$PATH"
RUN python -m venv /opt/venv
WORKDIR /src
# .dockerignore lets through only the packaging files and the product packages.
COPY . .
RUN pip install --no-cache-dir .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:$PATH" \
    UNEFOIS_HOST=0.0.0.0 \
    UNEFOIS_PORT=8000 \
    UNEFOIS_DATA_DIR=/var/lib/unefois \
    UNEFOIS_PUBLIC_URL=http://localhost:8000
# A fixed uid/gid so that volumes can be prepared (chown) outside the container.
RUN groupadd --system --gid 10001 unefois \
    && useradd --system --uid 10001 --gid unefois --no-create-home \
       --home-dir /var/lib/unefois --shell /usr/sbin/nologin unefois \
    && mkdir -p /var/lib/unefois \
    && chown unefois:unefois /var/lib/unefois \
    && chmod 0700 /var/lib/unefois
COPY --from=builder /opt/venv /opt/venv
WORKDIR /var/lib/unefois
USER 10001:10001
VOLUME ["/var/lib/unefois"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('UNEFOIS_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=3).status == 200 else 1)"]
CMD ["unefois", "serve"]
