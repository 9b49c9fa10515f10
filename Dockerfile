# newsvault in a container: Debian slim, a non-root user, the archive and config.yaml on a volume.
#
#   docker build -t newsvault .
#   docker run --rm -v newsvault-data:/data newsvault init /data
#   docker run --rm -v newsvault-data:/data newsvault sources add https://www.example.com
#   docker compose up -d          # the daemon and the web view (compose.yaml)
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NEWSVAULT_CONFIG=/data/config.yaml

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin newsvault \
    && mkdir /data && chown newsvault:newsvault /data

WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY common ./common
COPY crawler ./crawler
COPY pipeline ./pipeline
COPY storage ./storage
COPY newsvault ./newsvault
# [postgres]: psycopg, for compose's optional PostgreSQL; nothing of the test extras.
RUN pip install -c constraints.txt ".[postgres]" && rm -rf /src

USER newsvault
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["newsvault"]
CMD ["daemon"]
