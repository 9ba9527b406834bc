# The reconciler command line in a small image: `docker run IMAGE -C infra plan`.
# Build from the repository root: docker build -t reconciler:0.1.0 .
# With the postgres extra, so jobs run in it can share state (state.backend: postgres).
FROM python:3.11-slim

LABEL org.opencontainers.image.title="reconciler" \
      org.opencontainers.image.description="GitOps for automation platforms: validate, plan, apply, detect drift" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY reconciler ./reconciler
RUN pip install --no-cache-dir "/src[postgres]" \
    && rm -rf /src \
    && groupadd --gid 10001 reconciler \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin reconciler

USER 10001:10001
WORKDIR /work
ENTRYPOINT ["reconciler"]
CMD ["--help"]
