# Sourced by the *-local.sh scripts: processes they started, recorded in pid files.

# The pid in file $1 when that process still runs; fails otherwise.
pid_of() {
  local pid
  [ -f "$1" ] || return 1
  pid=$(cat "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Stops the process of pid file $1 (SIGTERM, then SIGKILL after 30 s) and removes the file.
# Fails when no process was running.
stop_pid_file() {
  local pid i
  if ! pid=$(pid_of "$1"); then
    rm -f "$1"
    return 1
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$1"
}
