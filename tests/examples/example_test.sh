#!/usr/bin/env bash
# Runs the example programs as real, separate processes and checks what they
# print. Usage: example_test.sh BIN_DIR TEST_NAME
# Every wait is bounded by `timeout`; every path, name and port is private to
# this run and removed on exit.
set -euo pipefail
bin=$1
name=$2
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
T="timeout 30"
uniq="ex$$-$RANDOM"

fail() { echo "FAIL: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# sender/receiver: 1..1000 in order, receiver first or sender first.
pair() {
  local url=$1 order=$2
  if [ "$order" = receiver_first ]; then
    $T "$bin/receiver" "$url" --count 1000 > "$work/out" & pids+=($!)
    seq 1 1000 | $T "$bin/sender" "$url"
  else
    seq 1 1000 | $T "$bin/sender" "$url" & pids+=($!)
    sleep 0.3  # Let the sender start waiting before anyone listens.
    $T "$bin/receiver" "$url" --count 1000 > "$work/out" & pids+=($!)
  fi
  wait "${pids[@]}"
  pids=()
  cmp <(seq 1 1000) "$work/out" || fail "$url ($order): output differs"
}

url_for() {
  case $1 in
    unix_path) echo "unix://$work/demo.sock" ;;
    unix_abstract) echo "unix://@$uniq" ;;
    fifo) echo "fifo://$work/demo.fifo" ;;
    shm) echo "shm://$uniq" ;;
    mq) echo "mq:///$uniq" ;;
    zmq_ipc) echo "zmq+ipc://$work/demo.zmq" ;;
    zmq_tcp) echo "zmq+tcp://127.0.0.1:$(free_port)" ;;
    tcp) echo "tcp://127.0.0.1:$(free_port)" ;;
  esac
}

case $name in
  pair_*_receiver_first|pair_*_sender_first)
    rest=${name#pair_}
    case $rest in
      *_receiver_first) order=receiver_first ;;
      *) order=sender_first ;;
    esac
    pair "$(url_for "${rest%_"$order"}")" "$order"
    ;;
  pair_pipe)
    seq 1 1000 | $T "$bin/sender" 'pipe:?wfd=1' | $T "$bin/receiver" 'pipe:?rfd=0' > "$work/out"
    cmp <(seq 1 1000) "$work/out" || fail "pipe pipeline output differs"
    ;;
  pair_udp)
    $T "$bin/receiver" udp://127.0.0.1:0 --print-url --count 5 --timeout 5 \
      > "$work/out" 2> "$work/url" & pids+=($!)
    for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
    $T "$bin/sender" "$(cat "$work/url")" one two three four five
    wait "${pids[@]}"; pids=()
    # Best effort: on loopback, five small datagrams arrive, in order.
    [ "$(cat "$work/out")" = "$(printf 'one\ntwo\nthree\nfour\nfive')" ] || fail "udp got: $(cat "$work/out")"
    ;;
  errors)
    set +e
    out=$("$bin/sender" bogus://x hello 2>&1); rc=$?
    [ $rc -ne 0 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && [[ $out == *"bogus://x"*"unknown scheme"* ]] \
      || fail "bad URL: rc=$rc out=$out"
    out=$("$bin/sender" "unix://$work/nobody.sock" --timeout 0.2 hi 2>&1); rc=$?
    [ $rc -ne 0 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && [[ $out == *"$work/nobody.sock"*"no listener"* ]] \
      || fail "unreachable peer: rc=$rc out=$out"
    out=$("$bin/receiver" "unix://$work/a.sock?colour=blue" 2>&1); rc=$?
    [ $rc -ne 0 ] && [[ $out == *"unknown option 'colour'"* ]] || fail "bad option: rc=$rc out=$out"
    out=$("$bin/receiver" 2>&1); rc=$?
    [ $rc -eq 2 ] && [[ $out == *usage* ]] || fail "no arguments: rc=$rc out=$out"
    ;;
  s01_pipe)
    [ "$($T "$bin/s01_pipe")" = "Hello" ] || fail "s01 did not print Hello"
    ;;
  s05_tcp_request_response)
    url="tcp://127.0.0.1:$(free_port)"
    # Client first: it must wait for the server.
    $T "$bin/s05_tcp_request_response" client "$url" hi > "$work/client" & pids+=($!)
    sleep 0.3
    $T "$bin/s05_tcp_request_response" server "$url" --requests 1 > "$work/server"
    wait "${pids[@]}"; pids=()
    [ "$(cat "$work/client")" = "client: answer to 'hi'" ] || fail "client got: $(cat "$work/client")"
    grep -q "server: got 'hi'" "$work/server" || fail "server printed: $(cat "$work/server")"
    ;;
  s06_echo_server)
    "$bin/s06_echo_server" server tcp://127.0.0.1:0 --print-url 2> "$work/url" & pids+=($!)
    for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
    url=$(head -n1 "$work/url")
    cpids=()
    for c in 1 2 3 4 5; do
      $T "$bin/s06_echo_server" client "$url" "client$c says hi" "bye from $c" > "$work/c$c" & cpids+=($!)
    done
    wait "${cpids[@]}"
    for c in 1 2 3 4 5; do
      [ "$(cat "$work/c$c")" = "$(printf 'CLIENT%s SAYS HI\nBYE FROM %s' "$c" "$c")" ] \
        || fail "client $c got: $(cat "$work/c$c")"
    done
    ;;
  s07_udp_echo)
    $T "$bin/s07_udp_echo" server udp://127.0.0.1:0 --count 2 --print-url 2> "$work/url" & pids+=($!)
    for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
    out=$($T "$bin/s07_udp_echo" client "$(head -n1 "$work/url")" hello world)
    [ "$out" = "$(printf 'HELLO\nWORLD')" ] || fail "udp echo got: $out"
    ;;
  s15_fifo)
    $T "$bin/s15_fifo" read "$work/talk.fifo" > "$work/out" & pids+=($!)
    $T "$bin/s15_fifo" write "$work/talk.fifo" hello "named pipe"
    wait "${pids[@]}"; pids=()
    [ "$(cat "$work/out")" = "$(printf 'reader got: hello\nreader got: named pipe')" ] \
      || fail "fifo reader printed: $(cat "$work/out")"
    [ ! -e "$work/talk.fifo" ] || fail "FIFO left behind"
    ;;
  s02_queue_hello)
    [ "$($T "$bin/s02_queue_hello")" = "Hello" ] || fail "s02 did not print Hello"
    ;;
  s03_bounded_queue)
    [ "$($T "$bin/s03_bounded_queue")" = "$(printf 'put 4: Full\ngot: 1 2 3\nget_nowait: Empty')" ] \
      || fail "s03 printed: $("$bin/s03_bounded_queue")"
    ;;
  s04_shared_value_array)
    [ "$($T "$bin/s04_shared_value_array")" = "123 456" ] || fail "s04 printed the wrong values"
    ;;
  s19_priority_lifo)
    [ "$($T "$bin/s19_priority_lifo")" = "$(printf "priority: (-2, 'c') (5, 'b') (10, 'a')\nlifo: 3 2 1")" ] \
      || fail "s19 printed: $("$bin/s19_priority_lifo")"
    ;;
  s09_print_lock)
    out=$($T "$bin/s09_print_lock")
    [ "$(echo "$out" | wc -l)" -eq 6 ] || fail "s09 printed: $out"
    # Each process's two lines are next to each other.
    echo "$out" | awk 'NR % 2 == 1 { first = $1 } NR % 2 == 0 && $1 != first { bad = 1 } END { exit bad }' \
      || fail "s09 lines interleaved: $out"
    ;;
  s10_producer_consumer)
    [ "$($T "$bin/s10_producer_consumer")" = "consumed 10 items" ] || fail "s10"
    ;;
  s11_semaphore)
    out=$($T "$bin/s11_semaphore") || fail "s11 failed: $out"
    max=${out##*: }
    [ "$max" -ge 1 ] && [ "$max" -le 5 ] || fail "s11 saw $max inside at once"
    ;;
  s12_event)
    out=$($T "$bin/s12_event") || fail "s12 failed: $out"
    [ "$(echo "$out" | grep -c connected)" -eq 2 ] || fail "s12 printed: $out"
    ;;
  s13_bank_account)
    out=$($T "$bin/s13_bank_account") || fail "s13 failed: $out"
    [ "$out" = "balance 0, lowest 0, deposited 4500, withdrawn 4500" ] || fail "s13 printed: $out"
    ;;
  s14_recursive_lock)
    out=$($T "$bin/s14_recursive_lock") || fail "s14 failed: $out"
    [ "$(echo "$out" | grep -c 'got both locks')" -eq 2 ] || fail "s14 printed: $out"
    echo "$out" | grep -q 're-entered yes, other process excluded' || fail "s14 printed: $out"
    ;;
  s18_worker_pool)
    [ "$($T "$bin/s18_worker_pool")" = "[1, 4, 9, 16, 25]" ] || fail "s18"
    ;;
  s16_message_queue)
    # The sender starts first and waits for the queue to appear.
    $T "$bin/s16_message_queue" send "$uniq" first "second message" third & pids+=($!)
    sleep 0.3
    $T "$bin/s16_message_queue" receive "$uniq" > "$work/out"
    wait "${pids[@]}"; pids=()
    [ "$(cat "$work/out")" = "$(printf 'received: first\nreceived: second message\nreceived: third')" ] \
      || fail "mq receiver printed: $(cat "$work/out")"
    ;;
  *)
    fail "unknown test $name"
    ;;
esac
echo "PASS: $name"
