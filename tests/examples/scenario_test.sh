#!/usr/bin/env bash
# The scenario examples (shared/SCENARIOS.md), run as real processes; each
# case checks what the programs print.
#   scenario_test.sh BIN_DIR CASE
source "$(dirname "$0")/lib.sh" "$1"
name=$2

# run_ok OUT_FILE CMD...: runs CMD (bounded), stdout to OUT_FILE; fails,
# showing stderr, unless it exits 0.
run_ok() {
  local out=$1
  shift
  "${T[@]}" "$@" > "$out" 2> "$work/stderr" || fail "'$*' failed: $(cat "$work/stderr")"
}

# start_ipcd SOCKET: runs ipcd in the background on SOCKET, waiting for the
# line it logs once it listens; sets $daemon to its pid.
start_ipcd() {
  "${T[@]}" "$bin/ipcd" --socket "$1" 2> "$work/ipcd.log" &
  daemon=$!
  pids+=("$daemon")
  wait_for "$daemon" "$work/ipcd.log" "listening on unix://$1"
}

# stop_ipcd: SIGTERM, and the daemon must exit cleanly. The signal goes to
# ipcd itself rather than to its `timeout`, which would give it only the 2 s
# of -k to finish (too short for a sanitizer build's exit checks on a busy
# machine); timeout's own 20 s still bounds it.
stop_ipcd() {
  local child
  child=$(pgrep -P "$daemon" || true)
  kill -TERM "${child:-$daemon}"
  wait "$daemon" || fail "ipcd did not exit cleanly: $(cat "$work/ipcd.log")"
}

case $name in
  s01_pipe)
    run_ok "$work/out" "$bin/s01_pipe"
    same_lines "$work/out" "Hello" "s01_pipe"
    ;;

  s05_client_first)
    # The client starts first and says it is connecting; the server starts
    # only then, on the port the client already waits for (retried should
    # another process take the port meanwhile).
    for attempt in 1 2 3 4 5; do
      url="tcp://127.0.0.1:$(free_port)"
      "${T[@]}" "$bin/s05_tcp_request_response" client "$url" "hi there" \
        > "$work/client" 2> "$work/client.err" &
      client=$!
      pids+=("$client")
      wait_for "$client" "$work/client" "client: connecting to $url"
      rc=0
      "${T[@]}" "$bin/s05_tcp_request_response" server "$url" --requests 1 \
        > "$work/server" 2> "$work/server.err" || rc=$?
      [ $rc -ne 0 ] && grep -q "in use" "$work/server.err" || break
      kill "$client" 2>/dev/null || true
      wait "$client" 2>/dev/null || true
    done
    [ $rc -eq 0 ] || fail "server failed: $(cat "$work/server.err")"
    wait "$client" || fail "client failed: $(cat "$work/client.err")"
    same_lines "$work/client" "client: connecting to $url
client: got 'answer to hi there'" "s05 client"
    same_lines "$work/server" "server: listening on $url
server: got 'hi there'" "s05 server"
    ;;

  s05_server_first)
    # The usual order; port 0 lets the system pick, the server says which.
    "${T[@]}" "$bin/s05_tcp_request_response" server tcp://127.0.0.1:0 --requests 2 \
      > "$work/server" 2> "$work/server.err" &
    server=$!
    pids+=("$server")
    wait_for "$server" "$work/server" "server: listening on"
    url=$(sed -n 's/^server: listening on //p' "$work/server")
    run_ok "$work/c1" "$bin/s05_tcp_request_response" client "$url" one
    run_ok "$work/c2" "$bin/s05_tcp_request_response" client "$url" two
    wait "$server" || fail "server failed: $(cat "$work/server.err")"
    grep -qx "client: got 'answer to one'" "$work/c1" || fail "client 1: $(cat "$work/c1")"
    grep -qx "client: got 'answer to two'" "$work/c2" || fail "client 2: $(cat "$work/c2")"
    ;;

  s06_echo_server)
    "${T[@]}" "$bin/s06_echo_server" server tcp://127.0.0.1:0 --print-url \
      > "$work/server" 2> "$work/url" &
    server=$!
    pids+=("$server")
    wait_for "$server" "$work/url" "tcp://"
    url=$(head -n 1 "$work/url")
    # Client A connects and gets one reply, then keeps its connection open
    # (its stdin is a FIFO this script holds) while five more clients talk
    # at the same time. A server that served one client at a time would
    # leave them hanging behind A.
    mkfifo "$work/a.in"
    "${T[@]}" "$bin/s06_echo_server" client "$url" < "$work/a.in" > "$work/a.out" &
    client_a=$!
    pids+=("$client_a")
    exec 3<> "$work/a.in"  # Read-write, so opening it cannot block.
    echo "a is first" >&3
    wait_for "$client_a" "$work/a.out" "A IS FIRST"
    others=()
    for c in 1 2 3 4 5; do
      "${T[@]}" "$bin/s06_echo_server" client "$url" "client$c says hi" "bye from $c" \
        > "$work/c$c" 2>&1 3>&- &
      others+=($!)
    done
    for c in 1 2 3 4 5; do
      wait "${others[c - 1]}" || fail "client $c: $(cat "$work/c$c")"
      same_lines "$work/c$c" "CLIENT$c SAYS HI
BYE FROM $c" "client $c"
    done
    echo "a is last" >&3
    exec 3>&-
    wait "$client_a" || fail "client A failed"
    same_lines "$work/a.out" "A IS FIRST
A IS LAST" "client A"
    # Six connections, each served by its own process.
    [ "$(grep -c '^server: connection [0-9]* served by process' "$work/server")" -eq 6 ] ||
      fail "server printed: $(cat "$work/server")"
    [ "$(awk '{print $NF}' "$work/server" | sort -u | wc -l)" -eq 6 ] ||
      fail "connections shared a process: $(cat "$work/server")"
    ;;

  s07_udp_echo)
    "${T[@]}" "$bin/s07_udp_echo" server udp://127.0.0.1:0 --count 3 --print-url \
      > /dev/null 2> "$work/url" &
    server=$!
    pids+=("$server")
    wait_for "$server" "$work/url" "udp://"
    run_ok "$work/out" "$bin/s07_udp_echo" client "$(head -n 1 "$work/url")" hello world "udp echo"
    same_lines "$work/out" "HELLO
WORLD
UDP ECHO" "udp echo client"
    wait "$server" || fail "udp echo server failed"
    ;;

  s07_no_server)
    # Nobody at the address: a clear one-line error naming it, not a hang.
    url="udp://127.0.0.1:$(free_port)"
    rc=0
    "${T[@]}" "$bin/s07_udp_echo" client "$url" hello > "$work/out" 2> "$work/err" || rc=$?
    [ $rc -eq 1 ] && [ "$(wc -l < "$work/err")" -eq 1 ] && grep -q "^client: $url: " "$work/err" ||
      fail "client without server: rc=$rc: $(cat "$work/err")"
    ;;

  s15_fifo)
    # Two unrelated invocations; the writer may come first and wait.
    "${T[@]}" "$bin/s15_fifo" write "$work/talk.fifo" hello "named pipe" 2> "$work/writer.err" &
    writer=$!
    pids+=("$writer")
    run_ok "$work/out" "$bin/s15_fifo" read "$work/talk.fifo"
    wait "$writer" || fail "writer failed: $(cat "$work/writer.err")"
    same_lines "$work/out" "reader got: hello
reader got: named pipe" "fifo reader"
    [ ! -e "$work/talk.fifo" ] || fail "the reader left its FIFO behind"
    ;;

  s16_message_queue)
    # Either order works: the sender waits for the queue to appear.
    "${T[@]}" "$bin/s16_message_queue" send "$uniq" first "second message" third \
      2> "$work/sender.err" &
    sender=$!
    pids+=("$sender")
    run_ok "$work/out" "$bin/s16_message_queue" receive "$uniq"
    wait "$sender" || fail "sender failed: $(cat "$work/sender.err")"
    same_lines "$work/out" "received: first
received: second message
received: third" "mq receiver"
    ;;

  # Single-program scenarios: each forks its own processes.
  s02_queue_hello)
    run_ok "$work/out" "$bin/s02_queue_hello"
    same_lines "$work/out" "Hello" "s02"
    ;;
  s03_bounded_queue)
    run_ok "$work/out" "$bin/s03_bounded_queue"
    same_lines "$work/out" "put 4: Full
got: 1 2 3
get_nowait: Empty" "s03"
    ;;
  s04_shared_value_array)
    run_ok "$work/out" "$bin/s04_shared_value_array"
    same_lines "$work/out" "123 456" "s04"
    ;;
  s09_print_lock)
    run_ok "$work/out" "$bin/s09_print_lock"
    [ "$(wc -l < "$work/out")" -eq 6 ] || fail "s09 printed: $(cat "$work/out")"
    # Each process's two lines are next to each other.
    awk 'NR % 2 == 1 { first = $1 } NR % 2 == 0 && $1 != first { bad = 1 } END { exit bad }' \
      "$work/out" || fail "s09 lines interleaved: $(cat "$work/out")"
    ;;
  s10_producer_consumer)
    run_ok "$work/out" "$bin/s10_producer_consumer"
    same_lines "$work/out" "consumed 10 items" "s10"
    ;;
  s11_semaphore)
    run_ok "$work/out" "$bin/s11_semaphore"
    max=$(sed -n 's/.*: \([0-9]*\)$/\1/p' "$work/out")
    [ -n "$max" ] && [ "$max" -ge 1 ] && [ "$max" -le 5 ] ||
      fail "s11 printed: $(cat "$work/out")"
    ;;
  s12_event)
    run_ok "$work/out" "$bin/s12_event"
    [ "$(grep -c connected "$work/out")" -eq 2 ] || fail "s12 printed: $(cat "$work/out")"
    ;;
  s13_bank_account)
    run_ok "$work/out" "$bin/s13_bank_account"
    same_lines "$work/out" "balance 0, lowest 0, deposited 4500, withdrawn 4500" "s13"
    ;;
  s14_recursive_lock)
    run_ok "$work/out" "$bin/s14_recursive_lock"
    [ "$(grep -c 'got both locks' "$work/out")" -eq 2 ] || fail "s14 printed: $(cat "$work/out")"
    grep -q 're-entered yes, other process excluded' "$work/out" ||
      fail "s14 printed: $(cat "$work/out")"
    ;;
  s18_worker_pool)
    run_ok "$work/out" "$bin/s18_worker_pool"
    same_lines "$work/out" "[1, 4, 9, 16, 25]" "s18"
    ;;
  s19_priority_lifo)
    run_ok "$work/out" "$bin/s19_priority_lifo"
    same_lines "$work/out" "priority: (-2, 'c') (5, 'b') (10, 'a')
lifo: 3 2 1" "s19"
    ;;
  # ipcd scenarios: the manager daemon and its clients.
  s08_manager_dict | s08_manager_counter)
    flag=()
    [ "$name" = s08_manager_counter ] && flag=(--counter)
    start_ipcd "$work/ipcd.sock"
    run_ok "$work/out" "$bin/s08_manager_dict" --socket "$work/ipcd.sock" "${flag[@]}"
    same_lines "$work/out" '{"count":0}' "$name"
    # Without --socket: the default socket, here from $IPCD_SOCKET.
    IPCD_SOCKET="$work/ipcd.sock" run_ok "$work/out" "$bin/s08_manager_dict" "${flag[@]}"
    same_lines "$work/out" '{"count":0}' "$name (default socket)"
    stop_ipcd
    ;;

  s08_no_daemon)
    # No daemon: one line naming the socket tried, exit 1, no hang.
    rc=0
    "${T[@]}" "$bin/s08_manager_dict" --socket "$work/none.sock" > "$work/out" 2> "$work/err" || rc=$?
    [ $rc -eq 1 ] || fail "s08 without daemon: rc=$rc: $(cat "$work/err")"
    same_lines "$work/err" "s08_manager_dict: ipcd at unix://$work/none.sock: not running (connect: No such file or directory)" \
      "s08 without daemon"
    ;;

  s17_daemon)
    # It starts its own ipcd, outlived by nothing: pids and paths vary.
    run_ok "$work/raw" "$bin/s17_daemon"
    sed -E 's/pid [0-9]+/pid N/; s#unix://[^ ]*#unix://SOCKET#' "$work/raw" > "$work/out"
    same_lines "$work/out" "s17: started ipcd (pid N) in the foreground on unix://SOCKET
client-1 (pid N): visits = 1, then exits
client-2 (pid N): visits = 2, then exits
client-3 (pid N): visits = 3, then exits
all clients have exited; ipcd still holds: visits = 3, guestbook = {\"client-1\":\"was here\",\"client-2\":\"was here\",\"client-3\":\"was here\"}
s17: stopped ipcd with SIGTERM: exit status 0 (clean shutdown)" "s17"
    ;;

  s17_running_daemon)
    # --socket: a daemon that is already running is used and left running.
    start_ipcd "$work/ipcd.sock"
    run_ok "$work/raw" "$bin/s17_daemon" --socket "$work/ipcd.sock" --clients 2
    sed -E 's/pid [0-9]+/pid N/' "$work/raw" > "$work/out"
    same_lines "$work/out" "s17: using the running ipcd at unix://$work/ipcd.sock
client-1 (pid N): visits = 1, then exits
client-2 (pid N): visits = 2, then exits
all clients have exited; ipcd still holds: visits = 2, guestbook = {\"client-1\":\"was here\",\"client-2\":\"was here\"}" \
      "s17 --socket"
    kill -0 "$daemon" 2>/dev/null || fail "s17 stopped a daemon it did not start"
    stop_ipcd
    ;;

  s20_authenticated_manager)
    # The program picks a free loopback port for ipcd; should another
    # process take it first, the daemon cannot listen: run again.
    for attempt in 1 2 3; do
      rc=0
      "${T[@]}" "$bin/s20_authenticated_manager" > "$work/raw" 2> "$work/err" || rc=$?
      grep -q "in use" "$work/err" || break
    done
    [ $rc -eq 0 ] || fail "s20 failed (rc=$rc): $(cat "$work/raw" "$work/err")"
    sed -E 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g; s/s20-[0-9]+-/s20-N-/' "$work/raw" > "$work/out"
    sed -n 1,2p "$work/out" > "$work/head"
    same_lines "$work/head" "s20: started ipcd listening on tcp://127.0.0.1:PORT (key in a 0600 file)
right key: connected; counter 's20-N-greetings' = 1" "s20 right key"
    grep -qx "wrong key: refused: ipcd at tcp://127.0.0.1:PORT: authentication .*" "$work/out" ||
      fail "s20 wrong key: $(cat "$work/out")"
    grep -qx "no key: refused: ipcd at tcp://127.0.0.1:PORT requires an authentication key (none given)" \
      "$work/out" || fail "s20 no key: $(cat "$work/out")"
    [ "$(tail -n 1 "$work/out")" = "s20: stopped ipcd: exit status 0" ] ||
      fail "s20 daemon: $(cat "$work/out")"
    [ "$(wc -l < "$work/out")" -eq 5 ] || fail "s20 printed: $(cat "$work/out")"
    ;;

  *)
    fail "unknown case $name"
    ;;
esac
echo "PASS: $name"
