#!/usr/bin/env bash
# Serve a class bigger than one server: Redis, N Streamlit replicas of cnnviz and nginx in front.
#
#   CNNVIZ_PRESENTER_KEY=... scripts/serve_classroom.sh --replicas 3
#
# Students open http://THIS-MACHINE:8501/ (nginx). nginx pins each browser to one replica by a cookie
# (deploy/nginx.conf.template), so its websocket, uploads and media stay on the replica that holds them;
# the classroom (presentation, followers, questions, answers) is shared through Redis (CNNVIZ_REDIS_URL).
# Ctrl+C (or SIGTERM) stops everything this script started.
#
# Options:
#   --replicas N        Streamlit processes (default 1; each serves a share of the class)
#   --port P            where nginx listens for students (default 8501)
#   --listen ADDR       the address nginx listens on (default 0.0.0.0; 127.0.0.1 keeps it on this machine)
#   --first-port Q      replica i listens on 127.0.0.1:Q+i (default 8601)
#   --redis-url URL     use this Redis instead of starting one (also: CNNVIZ_REDIS_URL)
#   --public-url URL    the address the join screen shows students (also: CNNVIZ_PUBLIC_URL)
#   --run-dir DIR       logs, sockets and nginx's config go here (default: a new temporary folder)
#
# With more than one replica, CNNVIZ_PRESENTER_KEY must be set: a generated key would differ per replica.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

REPLICAS=1
PORT=8501
LISTEN_ADDR=0.0.0.0
FIRST_PORT=8601
REDIS_URL="${CNNVIZ_REDIS_URL:-}"
PUBLIC_URL="${CNNVIZ_PUBLIC_URL:-}"
RUN_DIR=""

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "serve_classroom: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) REPLICAS="${2:-}"; shift 2 ;;
    --port) PORT="${2:-}"; shift 2 ;;
    --listen) LISTEN_ADDR="${2:-}"; shift 2 ;;
    --first-port) FIRST_PORT="${2:-}"; shift 2 ;;
    --redis-url) REDIS_URL="${2:-}"; shift 2 ;;
    --public-url) PUBLIC_URL="${2:-}"; shift 2 ;;
    --run-dir) RUN_DIR="${2:-}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

[[ "$REPLICAS" =~ ^[0-9]+$ ]] && [ "$REPLICAS" -ge 1 ] && [ "$REPLICAS" -le 32 ] \
  || die "--replicas must be a whole number from 1 to 32, not '$REPLICAS'"
[[ "$PORT" =~ ^[0-9]+$ ]] || die "--port must be a port number, not '$PORT'"
[[ "$FIRST_PORT" =~ ^[0-9]+$ ]] || die "--first-port must be a port number, not '$FIRST_PORT'"
if [ "$REPLICAS" -gt 1 ] && [ -z "${CNNVIZ_PRESENTER_KEY:-}" ]; then
  die "with $REPLICAS replicas, set CNNVIZ_PRESENTER_KEY (one key for all of them; a generated key would differ per replica), e.g.
  CNNVIZ_PRESENTER_KEY='choose-a-long-key' $0 --replicas $REPLICAS"
fi
NGINX="$(command -v nginx || true)"; [ -n "$NGINX" ] || NGINX=/usr/sbin/nginx
[ -x "$NGINX" ] || die "nginx is not installed (Debian: apt-get install nginx)"
if [ -z "$REDIS_URL" ]; then
  command -v redis-server >/dev/null 2>&1 || die "redis-server is not installed (Debian: apt-get install redis-server), or pass --redis-url"
fi

RUN_DIR="${RUN_DIR:-$(mktemp -d -t cnnviz-classroom-XXXXXX)}"
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
PIDS=()

stop_all() {
  trap - INT TERM EXIT
  echo "serve_classroom: stopping nginx, the replicas and Redis..." >&2
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.2
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

wait_for() {  # wait_for WHAT COMMAND...: until COMMAND succeeds (60 s at most)
  local what="$1"; shift
  for _ in $(seq 1 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$what did not start in 60 s (logs in $RUN_DIR)"
}

# --- Redis: the class's shared store -----------------------------------------------------
supervise_redis() {  # Redis, started again whenever it stops (as systemd's Restart=always would)
  local rpid=""
  trap '[ -n "$rpid" ] && kill -TERM "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; exit 0' TERM INT
  while true; do
    redis-server --port 0 --unixsocket "$RUN_DIR/redis.sock" --unixsocketperm 700 --save '' --appendonly no \
      --dir "$RUN_DIR" --logfile "$RUN_DIR/redis.log" &
    rpid=$!
    wait "$rpid" || true  # (set -e would end the loop here)
    echo "serve_classroom: Redis stopped; starting it again (the replicas write the class back)" >&2
    sleep 0.5
  done
}
if [ -z "$REDIS_URL" ]; then
  # No persistence on purpose: after a restart the replicas write the class back (README, "Several replicas").
  supervise_redis &
  PIDS+=($!)
  REDIS_URL="unix://$RUN_DIR/redis.sock"
  wait_for "Redis" python -c "import redis, sys; sys.exit(0 if redis.Redis.from_url('$REDIS_URL').ping() else 1)"
fi
export CNNVIZ_REDIS_URL="$REDIS_URL"
[ -n "$PUBLIC_URL" ] && export CNNVIZ_PUBLIC_URL="$PUBLIC_URL"

# --- the replicas ----------------------------------------------------------------------------
UPSTREAMS=""
for i in $(seq 0 $((REPLICAS - 1))); do
  p=$((FIRST_PORT + i))
  python -m streamlit run "$ROOT/app.py" --server.headless true --server.port "$p" --server.address 127.0.0.1 \
    --server.fileWatcherType none --browser.gatherUsageStats false > "$RUN_DIR/replica-$i.log" 2>&1 &
  PIDS+=($!)
  UPSTREAMS="${UPSTREAMS}server 127.0.0.1:$p max_fails=0; "
done
for i in $(seq 0 $((REPLICAS - 1))); do
  wait_for "replica $i" python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$((FIRST_PORT + i))/_stcore/health', timeout=1)"
done

# --- nginx in front ---------------------------------------------------------------------------
sed -e "s|@RUN_DIR@|$RUN_DIR|g" -e "s|@UPSTREAMS@|$UPSTREAMS|" -e "s|@LISTEN@|$LISTEN_ADDR:$PORT|" \
  "$ROOT/deploy/nginx.conf.template" > "$RUN_DIR/nginx.conf"
"$NGINX" -t -q -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR" -e "$RUN_DIR/nginx-error.log" \
  || die "nginx refused its configuration ($RUN_DIR/nginx.conf)"
"$NGINX" -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR" -e "$RUN_DIR/nginx-error.log" &
PIDS+=($!)
wait_for "nginx" python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/_stcore/health', timeout=1)"

echo "serve_classroom: $REPLICAS replica(s) on 127.0.0.1:$FIRST_PORT-$((FIRST_PORT + REPLICAS - 1)), Redis at $REDIS_URL,"
echo "serve_classroom: students open http://$( [ "$LISTEN_ADDR" = 0.0.0.0 ] && hostname -I 2>/dev/null | awk '{print $1}' || echo "$LISTEN_ADDR"):$PORT/${PUBLIC_URL:+ (join screen: $PUBLIC_URL)}"
echo "serve_classroom: logs in $RUN_DIR; Ctrl+C stops everything."

# Stop everything when any of them stops (a replica that died would leave its students stranded).
set +e
wait -n
echo "serve_classroom: a process exited; see the logs in $RUN_DIR" >&2
exit 1
