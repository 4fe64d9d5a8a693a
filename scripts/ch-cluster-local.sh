#!/usr/bin/env bash
# A throwaway ClickHouse cluster for tests: one ZooKeeper and two ClickHouse servers, living
# entirely in DIR, on free loopback ports.
#
#   ch-cluster-local.sh start DIR SHAPE   write configs, start ZooKeeper then both servers, wait
#   ch-cluster-local.sh stop  DIR         stop the servers, then ZooKeeper; no-op when not running
#   ch-cluster-local.sh env   DIR         print `export CH_CLUSTER_...=` lines for the shell
#
# SHAPE is the cluster `pg2ch_cluster` both servers define in <remote_servers>:
#   2x1  two shards of one replica each (server 1 is shard 01, server 2 shard 02)
#   1x2  one shard of two replicas      (servers 1 and 2 are replicas r1 and r2 of shard 01)
# Each server's <macros> hold its {shard} and {replica}, so one ReplicatedMergeTree path
# ('/clickhouse/tables/{shard}/...', '{replica}') fits every server; <distributed_ddl> enables
# ON CLUSTER. The user `default` has no password (loopback only).
#
# ZooKeeper is Debian's `zookeeper` package (3.8) run as a standalone server with the JVM on the
# image; nothing of /etc/zookeeper is used. The configs use only keys ClickHouse 18.16 knows.
set -euo pipefail
source "$(dirname "$0")/lib/pid-file.sh"

CH_SERVER=${CH_SERVER:-clickhouse-server}
ZK_JAR=${ZK_JAR:-/usr/share/java/zookeeper.jar}
JAVA=${JAVA:-java}
CLUSTER=pg2ch_cluster

usage() {
  echo "usage: $0 start DIR 2x1|1x2 | stop DIR | env DIR" >&2
  exit 2
}

die() {
  echo "ch-cluster-local: $*" >&2
  exit 1
}

# Ports nobody listens on now and not in the arguments, below the ephemeral range.
free_ports() {
  local count=$1
  shift
  perl -MIO::Socket::INET -e '
    my $count = shift;
    my %skip = map { $_ => 1 } @ARGV;
    my @held;
    for (1..400) {
      last if @held == $count;
      my $p = 20000 + int(rand(12000));
      next if $skip{$p};
      my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $p, Proto => "tcp", ReuseAddr => 1, Listen => 1);
      next unless $s;
      $skip{$p} = 1;
      push @held, $s;
      print "$p\n";
    }
    exit(@held == $count ? 0 : 1)' "$count" "$@" || die "no free TCP ports found"
}

zk_serves() {
  # "srvr" names the server's mode only once it serves sessions; "ruok" answers "imok" earlier,
  # while handshakes are still closed, and a ClickHouse whose first ZooKeeper handshake fails
  # never runs ON CLUSTER statements (18.16's DDL worker gives up for good).
  local out
  out=$( (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf srvr >&3 && timeout 2 cat <&3) 2>/dev/null) || return 1
  [[ $out == *"Mode: standalone"* ]]
}

ch_answers() {
  [ "$(curl -sf --max-time 2 "http://127.0.0.1:$1/?query=SELECT%201" 2>/dev/null)" = 1 ]
}

start_zookeeper() {
  local port=$1 pid
  mkdir -p "$DIR/zookeeper/data"
  cat >"$DIR/zookeeper/zoo.cfg" <<EOF
tickTime=500
dataDir=$DIR/zookeeper/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=srvr
EOF
  # setsid: the server must not die with the shell (or test process group) that started it.
  (cd "$DIR/zookeeper" && exec setsid "$JAVA" -Xmx256m -XX:+UseSerialGC -cp "$ZK_JAR" \
    org.apache.zookeeper.server.ZooKeeperServerMain "$DIR/zookeeper/zoo.cfg" \
    </dev/null >"$DIR/zookeeper/stdout.log" 2>&1) &
  pid=$!
  echo "$pid" >"$DIR/zookeeper.pid"
  for ((i = 0; i < 600; i++)); do
    zk_serves "$port" && return 0
    kill -0 "$pid" 2>/dev/null || { rm -f "$DIR/zookeeper.pid"; return 1; }
    sleep 0.1
  done
  stop_pid_file "$DIR/zookeeper.pid" || true
  return 1
}

# <shard> elements of the cluster, from the native ports of server 1 and 2.
remote_shards() {
  local tcp1=$1 tcp2=$2
  if [ "$SHAPE" = 2x1 ]; then
    for tcp in "$tcp1" "$tcp2"; do
      echo "            <shard><internal_replication>true</internal_replication>"
      echo "                <replica><host>127.0.0.1</host><port>$tcp</port></replica></shard>"
    done
  else
    echo "            <shard><internal_replication>true</internal_replication>"
    echo "                <replica><host>127.0.0.1</host><port>$tcp1</port></replica>"
    echo "                <replica><host>127.0.0.1</host><port>$tcp2</port></replica></shard>"
  fi
}

write_server_config() {
  local n=$1 http=$2 tcp=$3 interserver=$4 zk=$5 shards=$6 shard replica
  local d="$DIR/ch$n"
  if [ "$SHAPE" = 2x1 ]; then shard="0$n" replica=r1; else shard=01 replica="r$n"; fi
  mkdir -p "$d/data" "$d/tmp" "$d/user_files" "$d/format_schemas" "$d/log"
  cat >"$d/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$d/log/clickhouse-server.log</log>
        <errorlog>$d/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$http</http_port>
    <tcp_port>$tcp</tcp_port>
    <interserver_http_port>$interserver</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>134217728</uncompressed_cache_size>
    <mark_cache_size>134217728</mark_cache_size>
    <path>$d/data/</path>
    <tmp_path>$d/tmp/</tmp_path>
    <user_files_path>$d/user_files/</user_files_path>
    <format_schema_path>$d/format_schemas/</format_schema_path>
    <users_config>$DIR/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <zookeeper>
        <node><host>127.0.0.1</host><port>$zk</port></node>
        <session_timeout_ms>10000</session_timeout_ms>
    </zookeeper>
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
    <macros><shard>$shard</shard><replica>$replica</replica></macros>
    <remote_servers>
        <$CLUSTER>
$shards
        </$CLUSTER>
    </remote_servers>
</yandex>
EOF
}

write_users() {
  cat >"$DIR/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
    </interval></default></quotas>
</yandex>
EOF
}

start_server() {
  local n=$1 pid
  (cd "$DIR/ch$n" && exec setsid "$CH_SERVER" --config-file="$DIR/ch$n/config.xml" \
    </dev/null >"$DIR/ch$n/log/stdout.log" 2>&1) &
  echo "$!" >"$DIR/ch$n.pid"
}

wait_server() {
  local n=$1 http=$2 pid
  pid=$(cat "$DIR/ch$n.pid")
  for ((i = 0; i < 600; i++)); do
    ch_answers "$http" && return 0
    kill -0 "$pid" 2>/dev/null || { rm -f "$DIR/ch$n.pid"; return 1; }
    sleep 0.1
  done
  return 1
}

# 18.16's DDL worker connects to ZooKeeper once at start; when that fails it stops for good (and the
# first ON CLUSTER statement then crashes the server). It logs the failure within a moment.
ddl_workers_alive() {
  sleep 1
  ! grep -q "DDLWorker" "$DIR"/ch1/log/clickhouse-server.err.log "$DIR"/ch2/log/clickhouse-server.err.log 2>/dev/null
}

stop_all() {
  stop_pid_file "$DIR/ch1.pid" || true
  stop_pid_file "$DIR/ch2.pid" || true
  stop_pid_file "$DIR/zookeeper.pid" || true
}

# One attempt with fresh ports; non-zero when a port was taken meanwhile or a server died.
try_start() {
  local ports zk http1 tcp1 is1 http2 tcp2 is2
  mapfile -t ports < <(free_ports 7)
  read -r zk http1 tcp1 is1 http2 tcp2 is2 <<<"${ports[*]}"
  start_zookeeper "$zk" || return 1
  local shards
  shards=$(remote_shards "$tcp1" "$tcp2")
  write_server_config 1 "$http1" "$tcp1" "$is1" "$zk" "$shards"
  write_server_config 2 "$http2" "$tcp2" "$is2" "$zk" "$shards"
  # Both at once: each waits for ZooKeeper, not for the other.
  start_server 1
  start_server 2
  if wait_server 1 "$http1" && wait_server 2 "$http2" && ddl_workers_alive; then
    echo "$SHAPE $zk $http1 $tcp1 $http2 $tcp2" >"$DIR/ports"
    return 0
  fi
  stop_all
  return 1
}

cmd_start() {
  [ -n "$SHAPE" ] || usage
  if [ -f "$DIR/ports" ] && pid_of "$DIR/ch1.pid" >/dev/null; then
    echo "ch-cluster-local: already running ($(cut -d' ' -f1 "$DIR/ports"))"
    return 0
  fi
  command -v "$JAVA" >/dev/null || die "no java: install a JRE (openjdk-17-jre-headless)"
  [ -r "$ZK_JAR" ] || die "no $ZK_JAR: install Debian's zookeeper package"
  # A fresh cluster each time: old ZooKeeper state would name replicas that no longer exist.
  rm -rf "$DIR/zookeeper" "$DIR/ch1" "$DIR/ch2" "$DIR/ports"
  write_users
  for ((attempt = 0; attempt < 5; attempt++)); do
    if try_start; then
      echo "ch-cluster-local: cluster $CLUSTER ($SHAPE) ready; ZooKeeper :$(cut -d' ' -f2 "$DIR/ports"), ClickHouse :$(cut -d' ' -f3 "$DIR/ports") and :$(cut -d' ' -f5 "$DIR/ports") (http)"
      return 0
    fi
    rm -rf "$DIR/zookeeper" "$DIR/ch1" "$DIR/ch2"
  done
  tail -n 20 "$DIR"/zookeeper/stdout.log "$DIR"/ch*/log/clickhouse-server.err.log "$DIR"/ch*/log/stdout.log >&2 2>/dev/null || true
  die "the cluster did not start (logs in $DIR)"
}

cmd_stop() {
  stop_all
  echo "ch-cluster-local: stopped"
}

cmd_env() {
  [ -f "$DIR/ports" ] || die "no cluster in $DIR (run: $0 start $DIR 2x1|1x2)"
  local shape zk http1 tcp1 http2 tcp2
  read -r shape zk http1 tcp1 http2 tcp2 <"$DIR/ports"
  cat <<EOF
export CH_CLUSTER_NAME=$CLUSTER
export CH_CLUSTER_SHAPE=$shape
export CH_CLUSTER_ZK_PORT=$zk
export CH_CLUSTER_HTTP_PORT_1=$http1
export CH_CLUSTER_TCP_PORT_1=$tcp1
export CH_CLUSTER_HTTP_PORT_2=$http2
export CH_CLUSTER_TCP_PORT_2=$tcp2
EOF
}

[ $# -ge 2 ] || usage
COMMAND=$1
DIR=$2
SHAPE=${3:-}
case $COMMAND in
  start) [ $# -eq 3 ] || usage ;;
  *) [ $# -eq 2 ] || usage ;;
esac
case $SHAPE in
  '' | 2x1 | 1x2) ;;
  *) usage ;;
esac
if [ "$COMMAND" = start ]; then
  mkdir -p "$DIR" || die "cannot create $DIR"
elif [ ! -d "$DIR" ]; then
  [ "$COMMAND" = stop ] && { echo "ch-cluster-local: not running"; exit 0; }
  [ "$COMMAND" = env ] && die "no cluster in $DIR"
  usage
fi
DIR=$(cd "$DIR" && pwd)

case $COMMAND in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  *) usage ;;
esac
