#!/usr/bin/env bash
# Makes docs/latency.png from a JSON-lines file written by run_channels.sh:
#   OUT_JSON=/tmp/r.jsonl bash bench/run_channels.sh > table.md
#   bash bench/plot.sh /tmp/r.jsonl
# Installs Debian's python3-matplotlib if it is missing (needs root/sudo).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y -qq python3-matplotlib >/dev/null
fi
/usr/bin/python3 "$root/bench/plot_latency.py" "$root/docs/latency.png" < "$1"
echo "wrote docs/latency.png"
