# Helpers of the bench/run_*.sh scripts that start servers; sourced, not run.
# Each takes the calling script's name (for its messages) first.

# install_redis WHO: Debian's redis-server and redis-tools, when missing.
# Fails (without exiting) when they cannot be installed.
install_redis() {
  command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null && return 0
  local sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  echo "$1: installing redis-server and redis-tools from Debian" >&2
  "${sudo_cmd[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
      --no-install-recommends redis-server redis-tools >/dev/null
}

# make_work TEMPLATE: a fresh directory in $work (mktemp -d TEMPLATE), and
# an exit trap that kills the processes listed in $pids and removes it.
make_work() {
  work=$(mktemp -d "$1")
  pids=()
  trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$work"' EXIT
}

# wait_for_socket WHO PATH: up to 10 s for a server to create its socket.
wait_for_socket() {
  for _ in $(seq 100); do
    [ -S "$2" ] && return 0
    sleep 0.1
  done
  echo "$1: $2 did not appear" >&2
  return 1
}
