#!/usr/bin/env bash
# Local Neo4j 5.26 Community server without Docker: jars come from Maven Central
# (infra/neo4j/pom.xml), config from infra/neo4j/neo4j.conf, home/data/logs in .run/neo4j.
#   usage: bash scripts/neo4j.sh start|stop|status|uri
#   env:   NEO4J_BOLT_PORT (default 7687), NEO4J_START_TIMEOUT (seconds, default 120)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N4J_HOME="$ROOT/.run/neo4j"
POM="$ROOT/infra/neo4j/pom.xml"
PORT="${NEO4J_BOLT_PORT:-7687}"
URI="bolt://127.0.0.1:$PORT"
PIDFILE="$N4J_HOME/run/neo4j.pid"      # written by the launcher (server.directories.run=run)
PWFILE="$N4J_HOME/password"
LOG="$N4J_HOME/logs/neo4j-sh.log"      # launcher/admin output; the server itself logs to neo4j.log/debug.log
# Neo4j 5.26 only accepts Java 17/21; a Temurin 25 may be first on PATH, so never rely on PATH.
JAVA=/usr/lib/jvm/java-17-openjdk-amd64/bin/java

export NEO4J_HOME="$N4J_HOME" NEO4J_CONF="$N4J_HOME/conf" JAVA_HOME="${JAVA%/bin/java}"
# The launcher lets these replace the JVM flags/heap from neo4j.conf; keep the conf authoritative.
unset JAVA_OPTS HEAP_SIZE

# Run a launcher class (bin/neo4j = Neo4jCommand, bin/neo4j-admin = Neo4jAdminCommand).
# The launcher JVM is short-lived: small heap, no C2. It does not pass these flags to the server JVM.
launcher() {
  local cls=$1; shift
  "$JAVA" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$N4J_HOME/lib/*" \
    "org.neo4j.server.startup.$cls" "$@"
}

# Running = pid file points at a live CommunityEntryPoint JVM (no JVM start needed, unlike `neo4j status`).
is_running() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'org.neo4j.server.CommunityEntryPoint'
}

# A running server listens where its copied conf says, whatever NEO4J_BOLT_PORT says now.
if is_running; then
  PORT=$(sed -n 's/^server\.bolt\.listen_address=.*:\([0-9]*\)$/\1/p' "$N4J_HOME/conf/neo4j.conf")
  URI="bolt://127.0.0.1:$PORT"
fi

# Bolt handshake over bash /dev/tcp (no Python needed): magic 0x6060B017, then 4 version proposals
# (5.8..5.0, 4.4, none, none). A ready server answers with a non-zero version.
bolt_ready() (
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
  printf '\x60\x60\xb0\x17\x00\x08\x08\x05\x00\x00\x04\x04\x00\x00\x00\x00\x00\x00\x00\x00' >&3
  resp=$(timeout 2 head -c 4 <&3 | od -An -tx1 | tr -d ' \n') || exit 1
  [[ -n "$resp" && "$resp" != 00000000 ]]
) 2>/dev/null

port_open() ( exec 3<>"/dev/tcp/127.0.0.1/$PORT" ) 2>/dev/null

ready_msg() { echo "neo4j: $URI (user neo4j, password in .run/neo4j/password)"; }

# Fetch the runtime classpath only when lib/ is empty or the pom changed (stamp = pom sha256).
fetch_jars() {
  local want have
  want=$(sha256sum "$POM" | cut -d' ' -f1)
  have=$(cat "$N4J_HOME/lib/.pom.sha256" 2>/dev/null || true)
  if [[ "$want" == "$have" ]] && compgen -G "$N4J_HOME/lib/*.jar" >/dev/null; then return; fi
  echo "neo4j: fetching jars with Maven into .run/neo4j/lib ..."
  rm -f "$N4J_HOME"/lib/*.jar "$N4J_HOME/lib/.pom.sha256"   # no stale versions on the classpath
  mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$N4J_HOME/lib" >>"$LOG" 2>&1 || { tail -20 "$LOG"; exit 1; }
  echo "$want" >"$N4J_HOME/lib/.pom.sha256"             # stamp only after a complete fetch
}

# Password: generated once; neo4j-admin can only set it before the system database exists.
init_password() {
  if [[ -d "$N4J_HOME/data/databases/system" ]]; then
    [[ -s "$PWFILE" ]] && return
    echo "neo4j: database exists but $PWFILE is missing; delete .run/neo4j/data to reset" >&2
    exit 1
  fi
  if [[ ! -s "$PWFILE" ]]; then
    (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$PWFILE")
  fi
  chmod 600 "$PWFILE"
  launcher Neo4jAdminCommand dbms set-initial-password "$(cat "$PWFILE")" >>"$LOG" 2>&1 ||
    { tail -20 "$LOG"; exit 1; }
}

start() {
  if is_running; then echo "neo4j: already running (pid $(cat "$PIDFILE"))"; ready_msg; return; fi
  mkdir -p "$N4J_HOME"/{conf,data,logs,run,import,plugins,lib}
  rm -f "$PIDFILE"                                        # stale pid from a crash/reboot
  if port_open; then echo "neo4j: port $PORT is already used by another process" >&2; exit 1; fi
  # copy the conf on every start so edits in infra/ apply; the Bolt port comes from the env
  sed "s/127\.0\.0\.1:7687/127.0.0.1:$PORT/" "$ROOT/infra/neo4j/neo4j.conf" >"$N4J_HOME/conf/neo4j.conf"
  fetch_jars
  init_password
  echo "[$(date -Is)] start" >>"$LOG"
  launcher Neo4jCommand start >>"$LOG" 2>&1 || { tail -20 "$LOG"; exit 1; }
  local deadline=$((SECONDS + ${NEO4J_START_TIMEOUT:-120}))
  until bolt_ready; do
    if ! is_running || ((SECONDS >= deadline)); then
      echo "neo4j: did not come up; last lines of .run/neo4j/logs/neo4j.log:" >&2
      tail -20 "$N4J_HOME/logs/neo4j.log" >&2 || true
      exit 1
    fi
    sleep 1
  done
  ready_msg
}

stop() {
  if ! is_running; then rm -f "$PIDFILE"; echo "neo4j: not running"; return; fi
  local pid; pid=$(cat "$PIDFILE")
  echo "[$(date -Is)] stop" >>"$LOG"
  launcher Neo4jCommand stop >>"$LOG" 2>&1 || true       # clean shutdown (checkpoint), waits for exit
  if kill -0 "$pid" 2>/dev/null; then                     # fallback: TERM, then KILL after 60 s
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  echo "neo4j: stopped"
}

cmd="${1:-}"
case "$cmd" in
  start|stop)
    mkdir -p "$N4J_HOME/logs"
    exec 9>"$N4J_HOME/.lock"; flock 9                    # serialise concurrent start/stop calls
    "$cmd" ;;
  status)
    if is_running; then echo "neo4j: running (pid $(cat "$PIDFILE")) at $URI"; exit 0; fi
    echo "neo4j: stopped"; exit 3 ;;
  uri) echo "$URI" ;;
  *) echo "usage: $0 start|stop|status|uri" >&2; exit 2 ;;
esac
