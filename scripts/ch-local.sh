#!/usr/bin/env bash
# A throwaway ClickHouse server for tests, the demo and benchmarks, living entirely in DIR.
#
#   ch-local.sh start DIR [HTTP_PORT]   write config, start in the background, wait for SELECT 1
#   ch-local.sh stop  DIR               SIGTERM (SIGKILL after 30 s); no-op when not running
#   ch-local.sh env   DIR               print `export CH_HOST=...` lines for the shell
#   ch-local.sh readonly DIR on|off     every user readonly (readonly = 1) or not, applied by the
#                                       running server's config reload; returns once it is
#
# Users (loopback only): `default` without a password, and `pg2ch` / `pg2ch_secret` for tests that
# need real credentials (auth failures, passwords in configs). Both see every database.
# The config uses only keys Debian's 18.16 understands and newer servers still accept.
set -euo pipefail
source "$(dirname "$0")/lib/pid-file.sh"

CH_SERVER=${CH_SERVER:-clickhouse-server}
CH_USER_NAME=pg2ch
CH_USER_PASSWORD=pg2ch_secret

usage() {
  echo "usage: $0 start DIR [HTTP_PORT] | stop DIR | env DIR | readonly DIR on|off" >&2
  exit 2
}

die() {
  echo "ch-local: $*" >&2
  exit 1
}

# A port nobody listens on now, below the ephemeral range (see pg-local.sh for the reasoning).
free_port() {
  perl -MIO::Socket::INET -e '
    my %skip = map { $_ => 1 } @ARGV;
    for (1..200) {
      my $p = 20000 + int(rand(12000));
      next if $skip{$p};
      my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $p, Proto => "tcp", ReuseAddr => 1, Listen => 1);
      if ($s) { print "$p\n"; exit 0 }
    }
    exit 1' "$@" || die "no free TCP port found"
}

server_pid() { pid_of "$DIR/clickhouse.pid"; }

answers() {
  [ "$(curl -sf --max-time 2 "http://127.0.0.1:$1/?query=SELECT%201" 2>/dev/null)" = 1 ]
}

write_config() {
  local http=$1 tcp=$2
  cat >"$DIR/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$DIR/log/clickhouse-server.log</log>
        <errorlog>$DIR/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$http</http_port>
    <tcp_port>$tcp</tcp_port>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>134217728</uncompressed_cache_size>
    <mark_cache_size>134217728</mark_cache_size>
    <path>$DIR/data/</path>
    <tmp_path>$DIR/tmp/</tmp_path>
    <user_files_path>$DIR/user_files/</user_files_path>
    <format_schema_path>$DIR/format_schemas/</format_schema_path>
    <users_config>$DIR/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
</yandex>
EOF
}

# $1: the profile's readonly setting (0: writes allowed).
write_users() {
  local user readonly=${1:-0}
  {
    echo '<?xml version="1.0"?>'
    echo '<yandex>'
    echo "    <profiles><default><max_memory_usage>4000000000</max_memory_usage><readonly>$readonly</readonly></default></profiles>"
    echo '    <users>'
    for user in "default:" "$CH_USER_NAME:$CH_USER_PASSWORD"; do
      cat <<EOF
        <${user%%:*}>
            <password>${user#*:}</password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </${user%%:*}>
EOF
    done
    echo '    </users>'
    echo '    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>'
    echo '        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>'
    echo '    </interval></default></quotas>'
    echo '</yandex>'
  } >"$DIR/users.xml"
}

# Starts with the given ports and waits; returns non-zero when the server exited or never answered.
try_start() {
  local http=$1 tcp=$2 pid
  write_config "$http" "$tcp"
  : >"$DIR/log/stdout.log"
  # setsid: the server must not die with the shell (or test process group) that started it.
  (cd "$DIR" && exec setsid "$CH_SERVER" --config-file="$DIR/config.xml" </dev/null >>"$DIR/log/stdout.log" 2>&1) &
  pid=$!
  echo "$pid" >"$DIR/clickhouse.pid"
  for ((i = 0; i < 600; i++)); do
    answers "$http" && return 0
    kill -0 "$pid" 2>/dev/null || { rm -f "$DIR/clickhouse.pid"; return 1; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/clickhouse.pid"
  return 1
}

cmd_start() {
  if server_pid >/dev/null; then
    echo "ch-local: already running on port $(cut -d' ' -f1 "$DIR/ports")"
    return 0
  fi
  mkdir -p "$DIR/data" "$DIR/tmp" "$DIR/user_files" "$DIR/format_schemas" "$DIR/log"
  write_users
  local http tcp attempts=1
  # Ports picked here can be taken before the server binds them; pick again then.
  [ -z "$PORT" ] && attempts=5
  for ((i = 0; i < attempts; i++)); do
    http=${PORT:-$(free_port)}
    tcp=$(free_port "$http")
    if try_start "$http" "$tcp"; then
      echo "$http $tcp" >"$DIR/ports"
      echo "ch-local: ClickHouse ready on 127.0.0.1:$http (http), :$tcp (native); data $DIR/data"
      return 0
    fi
  done
  tail -n 20 "$DIR/log/clickhouse-server.err.log" "$DIR/log/stdout.log" >&2 2>/dev/null || true
  die "ClickHouse did not start (logs: $DIR/log/)"
}

cmd_stop() {
  if stop_pid_file "$DIR/clickhouse.pid"; then echo "ch-local: stopped"; else echo "ch-local: not running"; fi
}

# The server re-reads users.xml on its own (every few seconds); a new POST session shows the
# profile's readonly value once it has (a GET would say 2: HTTP GET is always readonly).
cmd_readonly() {
  local want http
  case $MODE in on) want=1 ;; off) want=0 ;; *) usage ;; esac
  server_pid >/dev/null || die "no server running in $DIR"
  read -r http _ <"$DIR/ports"
  write_users "$want"
  for ((i = 0; i < 300; i++)); do
    [ "$(curl -sf --max-time 2 --data-binary "SELECT value FROM system.settings WHERE name = 'readonly'" \
      "http://127.0.0.1:$http/" 2>/dev/null)" = "$want" ] && { echo "ch-local: readonly $MODE"; return 0; }
    sleep 0.1
  done
  die "the server did not apply readonly = $want within 30 s"
}

cmd_env() {
  [ -f "$DIR/ports" ] || die "no server in $DIR (run: $0 start $DIR)"
  local http tcp
  read -r http tcp <"$DIR/ports"
  cat <<EOF
export CH_HOST=127.0.0.1
export CH_PORT=$http
export CH_TCP_PORT=$tcp
export CH_USER=default
export CH_PASSWORD=
export CH_DATABASE=default
EOF
}

[ $# -ge 2 ] || usage
COMMAND=$1
DIR=$2
PORT=${3:-}
MODE=
[ $# -le 3 ] || usage
if [ "$COMMAND" = readonly ]; then
  MODE=$PORT
  PORT=
fi
case $PORT in
  '') ;;
  *[!0-9]*) usage ;;
esac
if [ "$COMMAND" = start ]; then
  mkdir -p "$DIR" || die "cannot create $DIR"
elif [ ! -d "$DIR" ]; then
  # Nothing was ever started here: stopping is done, and there is no environment to print.
  [ "$COMMAND" = stop ] && { echo "ch-local: not running"; exit 0; }
  [ "$COMMAND" = env ] && die "no server in $DIR"
  usage
fi
DIR=$(cd "$DIR" && pwd)

case $COMMAND in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  readonly) cmd_readonly ;;
  *) usage ;;
esac
