# cnnviz for a classroom: Redis, N Streamlit replicas and nginx in one container, started by the same
# script as on a bare machine (scripts/serve_classroom.sh). Not built or run in cnnviz's CI (no image
# registry there); see the README's "Several replicas" section for how to build and run it.
#
#   docker build -t cnnviz .
#   docker run --rm -p 8501:8501 -e CNNVIZ_PRESENTER_KEY='a-long-key' \
#     -e CNNVIZ_PUBLIC_URL=http://192.168.1.20:8501/ -e REPLICAS=3 cnnviz
FROM python:3.11-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx redis-server procps \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .

# The app runs as an unprivileged user; nginx and Redis run as that user too (own config, temp folder).
RUN useradd --create-home --uid 10001 cnnviz && mkdir -p /run/cnnviz && chown cnnviz /run/cnnviz
USER cnnviz

ENV REPLICAS=3 \
    PYTHONUNBUFFERED=1
# Optional: CNNVIZ_DATA_DIR (mount the reference data), CNNVIZ_PUBLIC_URL, CNNVIZ_REDIS_URL (an outside Redis).
EXPOSE 8501
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "exec bash scripts/serve_classroom.sh --replicas \"$REPLICAS\" --port 8501 --run-dir /run/cnnviz"]
