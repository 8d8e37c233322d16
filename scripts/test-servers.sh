#!/usr/bin/env bash
# Real servers for the integration tests, on 127.0.0.1 with random free ports:
# Apache Kafka (KRaft, broker+controller), MinIO (S3, with a Kafka notification
# target) and moto (S3 / Glue / Athena). See scripts/README.md.
#
#   test-servers.sh start <envfile>       install if needed, start all, write <envfile>
#   test-servers.sh stop <envfile>        stop all, remove their temp dirs (no-op if none)
#   test-servers.sh status <envfile>      which servers run
#   test-servers.sh kafka-stop|kafka-kill|kafka-start <envfile>
#   test-servers.sh minio-stop|minio-kill|minio-start <envfile>
#   test-servers.sh moto-stop|moto-kill|moto-start <envfile>
#        stop (SIGTERM), crash (SIGKILL) or restart one server: same ports, same data
#   test-servers.sh kafka-tool <envfile> <java main class> [args...]
#        run a Kafka command-line tool against the test broker's jars, e.g.
#        org.apache.kafka.tools.TopicCommand --bootstrap-server "$ETL_TEST_KAFKA_BOOTSTRAP" --list
#
# <envfile> is plain `NAME='value'` lines, meant for `set -a; . <envfile>; set +a`.
# Environment knobs: ETL_CACHE_DIR, TMPDIR, ETL_TEST_MINIO_NOTIFY_TOPIC,
# ETL_TEST_S3_BUCKET, ETL_TEST_SERVERS_TIMEOUT (readiness limit per server, s).
#
# Over 400 lines on purpose: one script owns the servers' whole life (install, start, stop,
# kill, status), so the tests, the benchmarks and CI all share it.
set -euo pipefail
set +m   # no job control: background servers must not become process-group leaders before setsid

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
TEMPLATES="$HERE/test-servers"
# shellcheck source-path=SCRIPTDIR source=install-test-servers.sh
. "$HERE/install-test-servers.sh"

READY_TIMEOUT="${ETL_TEST_SERVERS_TIMEOUT:-60}"
NOTIFY_TOPIC="${ETL_TEST_MINIO_NOTIFY_TOPIC:-minio.raw.events}"
BUCKET="${ETL_TEST_S3_BUCKET:-spotify-etl-test}"
REGION="us-east-1"
NOTIFY_ARN="arn:minio:sqs:${REGION}:PRIMARY:kafka"   # MinIO also accepts the region-less form

log() { printf 'test-servers: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }   # single-quote for the envfile

PY() { "$(moto_venv)/bin/python" "$TEMPLATES/servers.py" "$@"; }

# ---------------------------------------------------------------- processes --
# Each server has <run>/<name>.run (a script that execs the server), a log
# <run>/<name>.log and <run>/<name>.pid holding "pid start-time" (so a
# recycled pid is never signalled).

proc_starttime() { # pid -> start time in clock ticks, or nothing
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  stat="${stat##*) }"
  # shellcheck disable=SC2086
  set -- $stat
  [ "$1" = Z ] && return 0   # zombie: as good as gone
  printf '%s' "${20}"
}

proc_pid() { # name -> pid if that server runs
  local f="$RUN/$1.pid" pid st
  [ -f "$f" ] || return 0
  read -r pid st <"$f" || true
  [ -n "${pid:-}" ] && [ -n "${st:-}" ] && [ "$(proc_starttime "$pid")" = "$st" ] && printf '%s' "$pid"
  return 0
}

proc_launch() { # name
  local name="$1" pid
  printf '\n===== %s starting %s\n' "$(date -u +%FT%TZ)" "$name" >>"$RUN/$name.log"
  # own session (no terminal signals), no stdin, output to the log only, and
  # none of our lock descriptors (a server holding one would block the next call)
  setsid bash "$RUN/$name.run" </dev/null >>"$RUN/$name.log" 2>&1 7>&- 8>&- 9>&- &
  pid=$!
  printf '%s %s\n' "$pid" "$(proc_starttime "$pid")" >"$RUN/$name.pid"
  envfile_set "ETL_TEST_$(tr "[:lower:]" "[:upper:]" <<<"$name")_PID" "$pid"
}

proc_signal() { # name signal
  local pid
  pid="$(proc_pid "$1")"
  [ -n "$pid" ] || return 0
  kill "-$2" -- "-$pid" 2>/dev/null || kill "-$2" "$pid" 2>/dev/null || true
}

proc_wait_gone() { # seconds name...
  local limit="$1"; shift
  local end=$((SECONDS + limit)) n alive
  while :; do
    alive=0
    for n in "$@"; do [ -n "$(proc_pid "$n")" ] && alive=1; done
    [ "$alive" = 0 ] && return 0
    [ "$SECONDS" -ge "$end" ] && return 1
    sleep 0.2
  done
}

proc_stop() { # seconds-before-kill name...
  local limit="$1"; shift
  local n
  for n in "$@"; do proc_signal "$n" TERM; done
  if ! proc_wait_gone "$limit" "$@"; then
    for n in "$@"; do
      [ -n "$(proc_pid "$n")" ] && log "$n did not stop within ${limit}s, killing it"
      proc_signal "$n" KILL
    done
    proc_wait_gone 5 "$@" || log "warning: some server processes survived SIGKILL"
  fi
  for n in "$@"; do rm -f "$RUN/$n.pid"; done
}

run_preamble() { # first lines of every <name>.run: close any descriptor inherited beyond 0-2
  cat <<'EOF2'
for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null; done; unset fd
EOF2
}

fail_with_log() { # name message
  log "ERROR: $2"
  if [ -f "$RUN/$1.log" ]; then
    log "----- last lines of $RUN/$1.log"
    tail -n 60 "$RUN/$1.log" >&2 || true
    log "-----"
  fi
  exit 1
}

# ------------------------------------------------------------------ envfile --

# shellcheck disable=SC2094  # read and rewritten on purpose, under flock
envfile_set() { # name value: replace or append a line of $ENVFILE
  [ -n "${ENVFILE:-}" ] || return 0
  touch "$ENVFILE"
  { # rewritten in place (the caller made the file), under a lock on it
    flock 8
    local rest
    rest="$(grep -v "^$1=" "$ENVFILE" || true)"
    { if [ -n "$rest" ]; then printf '%s\n' "$rest"; fi; printf '%s=%s\n' "$1" "$(q "$2")"; } >"$ENVFILE"
  } 8<"$ENVFILE"
}

envfile_get() { # name -> its value in $ENVFILE (values never hold a quote)
  sed -n "s/^$1='\(.*\)'$/\1/p" "$ENVFILE" 2>/dev/null | tail -n 1
}

load_envfile() { # envfile -> sets RUN (empty if nothing was started) and CACHE_DIR
  ENVFILE="$1"
  RUN=""
  [ -s "$ENVFILE" ] || return 0
  local cache
  cache="$(envfile_get ETL_TEST_SERVERS_CACHE)"
  [ -z "$cache" ] || CACHE_DIR="$cache"
  RUN="$(envfile_get ETL_TEST_SERVERS_DIR)"
  case "$RUN" in
    */spotify-etl-servers.*) ;;
    *) RUN="" ;;
  esac
  if [ -n "$RUN" ] && [ ! -d "$RUN" ]; then RUN=""; fi
  return 0
}

need_run() { [ -n "$RUN" ] || die "no running test servers recorded in ${ENVFILE:-?} (run: $SELF start <envfile>)"; }

# -------------------------------------------------------------------- Kafka --

kafka_bootstrap() { printf '127.0.0.1:%s' "$(cat "$RUN/kafka/port")"; }

kafka_prepare() { # broker-port controller-port
  local libs java cid
  libs="$(kafka_libs_dir)"
  java="$(command -v java)"
  rm -rf "$RUN/kafka"
  mkdir -p "$RUN/kafka/data"
  printf '%s\n' "$1" >"$RUN/kafka/port"
  sed -e "s|@BROKER_PORT@|$1|g" -e "s|@CONTROLLER_PORT@|$2|g" -e "s|@LOG_DIR@|$RUN/kafka/data|g" \
    "$TEMPLATES/kafka-server.properties.in" >"$RUN/kafka/server.properties"
  cp "$TEMPLATES/log4j.properties" "$RUN/kafka/log4j.properties"
  cat >"$RUN/kafka.run" <<EOF
# Kafka $KAFKA_VERSION, KRaft combined mode; generated by $SELF
$(run_preamble)
exec $(q "$java") -Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \\
  -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData -Djava.awt.headless=true \\
  -Dlog4j.configuration=file:$(q "$RUN/kafka/log4j.properties") -Dkafka.logs.dir=$(q "$RUN/kafka") \\
  -cp $(q "$libs/*") kafka.Kafka $(q "$RUN/kafka/server.properties")
EOF
  cid="$(PY cluster-id)"
  if ! "$java" -Xmx256m -XX:TieredStopAtLevel=1 -XX:-UsePerfData \
      -Dlog4j.configuration="file:$TEMPLATES/tools-log4j.properties" -cp "$libs/*" \
      kafka.tools.StorageTool format -t "$cid" -c "$RUN/kafka/server.properties" \
      </dev/null >>"$RUN/kafka.log" 2>&1; then
    fail_with_log kafka "formatting the Kafka storage failed"
  fi
}

# -------------------------------------------------------------------- MinIO --

minio_endpoint() { printf 'http://127.0.0.1:%s' "$(cat "$RUN/minio/port")"; }

minio_prepare() { # api-port console-port kafka-bootstrap user password
  rm -rf "$RUN/minio"
  mkdir -p "$RUN/minio/data" "$RUN/minio/queue"
  printf '%s\n' "$1" >"$RUN/minio/port"
  ( umask 077
    cat >"$RUN/minio.run" <<EOF
# MinIO $MINIO_VERSION, single drive; generated by $SELF
$(run_preamble)
exec env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=$(q "$RUN/minio") TMPDIR=$(q "${TMPDIR:-/tmp}") \\
  MINIO_ROOT_USER=$(q "$4") MINIO_ROOT_PASSWORD=$(q "$5") \\
  MINIO_SITE_REGION=$REGION MINIO_BROWSER=off MINIO_UPDATE=off \\
  MINIO_NOTIFY_KAFKA_ENABLE_PRIMARY=on \\
  MINIO_NOTIFY_KAFKA_BROKERS_PRIMARY=$(q "$3") \\
  MINIO_NOTIFY_KAFKA_TOPIC_PRIMARY=$(q "$NOTIFY_TOPIC") \\
  MINIO_NOTIFY_KAFKA_QUEUE_DIR_PRIMARY=$(q "$RUN/minio/queue") \\
  $(q "$(minio_bin)") server --address 127.0.0.1:$1 --console-address 127.0.0.1:$2 $(q "$RUN/minio/data")
EOF
  )
}

# --------------------------------------------------------------------- moto --

moto_endpoint() { printf 'http://127.0.0.1:%s' "$(cat "$RUN/moto/port")"; }

moto_prepare() { # port
  rm -rf "$RUN/moto"
  mkdir -p "$RUN/moto"
  printf '%s\n' "$1" >"$RUN/moto/port"
  cat >"$RUN/moto.run" <<EOF
# moto $MOTO_VERSION server mode (S3, Glue, Athena, ...); generated by $SELF
$(run_preamble)
cd $(q "$RUN/moto")
exec env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=$(q "$RUN/moto") TMPDIR=$(q "${TMPDIR:-/tmp}") \\
  $(q "$(moto_venv)/bin/moto_server") -H 127.0.0.1 -p $1
EOF
}

# ---------------------------------------------------------- any server --

server_addr() { # name
  case "$1" in
    kafka) kafka_bootstrap ;;
    minio) minio_endpoint ;;
    moto) moto_endpoint ;;
  esac
}

server_probe() { # name -> 0 when it serves
  case "$1" in
    kafka) PY kafka-ready "$(kafka_bootstrap)" 2 ;;
    minio) PY http-ready "$(minio_endpoint)/minio/health/ready" 2 ;;
    moto) PY http-ready "$(moto_endpoint)/moto-api/" 2 ;;
  esac 2>/dev/null
}

wait_ready() { # name -> 0 ready, 1 process exited, 2 timed out
  local end=$((SECONDS + READY_TIMEOUT))
  while [ "$SECONDS" -lt "$end" ]; do
    [ -n "$(proc_pid "$1")" ] || return 1
    if server_probe "$1"; then return 0; fi
  done
  return 2
}

fail_not_ready() { # name wait_ready-status
  if [ "$2" = 1 ]; then fail_with_log "$1" "$1 exited during start-up"; fi
  fail_with_log "$1" "$1 not ready on $(server_addr "$1") after ${READY_TIMEOUT}s"
}

ensure_running() { # name: (re)start on its recorded ports and data, wait until it serves
  [ -n "$(proc_pid "$1")" ] || proc_launch "$1"
  local rc=0
  wait_ready "$1" || rc=$?
  [ "$rc" = 0 ] || fail_not_ready "$1" "$rc"
}

start_fresh() { # name nports [prepare args...]: new ports, new data, launch
  local name="$1" nports="$2" ports
  shift 2
  read -r -a ports <<<"$(PY free-ports "$nports")"
  "${name}_prepare" "${ports[@]}" "$@"
  proc_launch "$name"
}

ready_fresh() { # name nports [prepare args...]: wait for a start_fresh; if a port
  # was taken between picking and binding it, start again on new ports
  local name="$1" attempt rc
  for attempt in 1 2 3; do
    rc=0
    wait_ready "$name" || rc=$?
    [ "$rc" = 0 ] && return 0
    if [ "$rc" = 1 ] && [ "$attempt" -lt 3 ] && grep -qi 'address already in use' "$RUN/$name.log"; then
      log "$name: a port was taken meanwhile, starting it again on other ports"
      mv "$RUN/$name.log" "$RUN/$name.log.$attempt"
      start_fresh "$@"
    else
      break
    fi
  done
  fail_not_ready "$name" "$rc"
}

# ------------------------------------------------------------ start / stop --

stop_all() {
  [ -n "$RUN" ] || return 0
  proc_stop 10 minio moto kafka
  rm -rf -- "$RUN"
  envfile_set ETL_TEST_SERVERS_DIR ""
}

start_failed() { # exit status
  [ "$1" -eq 0 ] && return 0
  log "start failed, stopping what was started"
  stop_all
}

cmd_start() {
  local t0=$SECONDS
  [ -n "${1:-}" ] || die "usage: $SELF start <envfile>"
  load_envfile "$1"
  if [ -n "$RUN" ]; then log "stopping the servers $1 recorded before"; stop_all; fi

  bash "$HERE/install-test-servers.sh"

  RUN="$(mktemp -d "${TMPDIR:-/tmp}/spotify-etl-servers.XXXXXX")"
  : >"$ENVFILE"
  envfile_set ETL_TEST_SERVERS_CACHE "$CACHE_DIR"
  envfile_set ETL_TEST_SERVERS_DIR "$RUN"
  # From here on a failure stops whatever was started.
  trap 'start_failed $?' EXIT

  local user pass
  user="etl-$(PY secret 12)"
  pass="$(PY secret 40)"

  start_fresh moto 1          # comes up while Kafka does
  start_fresh kafka 2
  ready_fresh kafka 2
  # MinIO publishes into this topic; auto-creation is off, so make it here.
  PY kafka-create-topic "$(kafka_bootstrap)" "$NOTIFY_TOPIC" 1 || fail_with_log kafka "could not create topic $NOTIFY_TOPIC"
  start_fresh minio 2 "$(kafka_bootstrap)" "$user" "$pass"
  ready_fresh minio 2 "$(kafka_bootstrap)" "$user" "$pass"
  PY s3-create-bucket "$(minio_endpoint)" "$user" "$pass" "$REGION" "$BUCKET" \
    || fail_with_log minio "could not create bucket $BUCKET in MinIO"
  ready_fresh moto 1

  local kcat=""
  kcat="$(command -v kcat || true)"
  {
    printf '# Test servers started by %s on %s; stop with: bash %s stop %s\n' \
      "$SELF" "$(date -u +%FT%TZ)" "$SELF" "$ENVFILE"
    printf '%s=%s\n' \
      ETL_TEST_SERVERS_ENV "$(q "$ENVFILE")" \
      ETL_TEST_SERVERS_SCRIPT "$(q "$SELF")" \
      ETL_TEST_SERVERS_DIR "$(q "$RUN")" \
      ETL_TEST_SERVERS_CACHE "$(q "$CACHE_DIR")" \
      ETL_TEST_PYTHON "$(q "$(moto_venv)/bin/python")" \
      ETL_TEST_JAVA "$(q "$(command -v java)")" \
      ETL_TEST_KCAT "$(q "$kcat")" \
      ETL_TEST_KAFKA_VERSION "$(q "$KAFKA_VERSION")" \
      ETL_TEST_KAFKA_BOOTSTRAP "$(q "$(kafka_bootstrap)")" \
      ETL_TEST_KAFKA_HOME "$(q "$(kafka_libs_dir)")" \
      ETL_TEST_KAFKA_LOG "$(q "$RUN/kafka.log")" \
      ETL_TEST_KAFKA_PID "$(q "$(proc_pid kafka)")" \
      ETL_TEST_S3_ENDPOINT "$(q "$(minio_endpoint)")" \
      ETL_TEST_S3_ACCESS_KEY "$(q "$user")" \
      ETL_TEST_S3_SECRET_KEY "$(q "$pass")" \
      ETL_TEST_S3_REGION "$(q "$REGION")" \
      ETL_TEST_S3_BUCKET "$(q "$BUCKET")" \
      ETL_TEST_MINIO_NOTIFY_ARN "$(q "$NOTIFY_ARN")" \
      ETL_TEST_MINIO_NOTIFY_TOPIC "$(q "$NOTIFY_TOPIC")" \
      ETL_TEST_MINIO_LOG "$(q "$RUN/minio.log")" \
      ETL_TEST_MINIO_PID "$(q "$(proc_pid minio)")" \
      ETL_TEST_MOTO_ENDPOINT "$(q "$(moto_endpoint)")" \
      ETL_TEST_MOTO_REGION "$(q "$REGION")" \
      ETL_TEST_MOTO_LOG "$(q "$RUN/moto.log")" \
      ETL_TEST_MOTO_PID "$(q "$(proc_pid moto)")"
  } >"$ENVFILE.tmp.$$"
  cat "$ENVFILE.tmp.$$" >"$ENVFILE"
  rm -f "$ENVFILE.tmp.$$"
  trap - EXIT
  log "kafka $(kafka_bootstrap), minio $(minio_endpoint) (bucket $BUCKET), moto $(moto_endpoint); ready in $((SECONDS - t0))s; env in $ENVFILE"
}

cmd_stop() {
  [ -n "${1:-}" ] || die "usage: $SELF stop <envfile>"
  load_envfile "$1"
  [ -n "$RUN" ] || return 0
  stop_all
  log "stopped"
}

cmd_status() {
  load_envfile "$1"
  need_run
  local n pid
  for n in kafka minio moto; do
    pid="$(proc_pid "$n")"
    if [ -n "$pid" ]; then printf '%s running (pid %s)\n' "$n" "$pid"; else printf '%s stopped\n' "$n"; fi
  done
}

cmd_one() { # action server envfile
  load_envfile "$3"
  need_run
  # one stop/start at a time, even from tests running in parallel
  exec 7>"$RUN/.lock"
  flock 7
  case "$1" in
    stop) proc_stop 20 "$2" ;;
    kill) proc_signal "$2" KILL; proc_wait_gone 5 "$2" || die "$2 survived SIGKILL"; rm -f "$RUN/$2.pid" ;;
    start) ensure_running "$2" ;;
  esac
  log "$2: $1 done"
}

cmd_kafka_tool() {
  load_envfile "$1"; shift
  [ "$#" -ge 1 ] || die "usage: $SELF kafka-tool <envfile> <main class> [args...]"
  exec java -Xmx256m -XX:TieredStopAtLevel=1 -XX:-UsePerfData \
    -Dlog4j.configuration="file:$TEMPLATES/tools-log4j.properties" \
    -cp "$(kafka_libs_dir)/*" "$@"
}

main() {
  local cmd="${1:-}"
  [ "$#" -ge 1 ] && shift
  case "$cmd" in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "${1:?envfile}" ;;
    kafka-stop|kafka-kill|kafka-start|minio-stop|minio-kill|minio-start|moto-stop|moto-kill|moto-start)
      cmd_one "${cmd#*-}" "${cmd%%-*}" "${1:?usage: $SELF $cmd <envfile>}" ;;
    kafka-tool) cmd_kafka_tool "$@" ;;
    install) bash "$HERE/install-test-servers.sh" "$@" ;;
    *) sed -n '2,19p' "$SELF" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

main "$@"
