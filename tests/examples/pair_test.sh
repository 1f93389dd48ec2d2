#!/usr/bin/env bash
# sender | receiver over one transport: `seq 1 1000 | sender URL` and
# `receiver URL --count 1000` must print 1..1000 in order, whichever starts
# first.
#   pair_test.sh BIN_DIR TRANSPORT ORDER
# TRANSPORT: unix_path unix_abstract fifo tcp shm mq zmq_ipc zmq_tcp (reliable)
#            pipe (one pipeline) or udp (5 datagrams, receiver first)
# ORDER:     receiver_first or sender_first
source "$(dirname "$0")/lib.sh" "$1"
transport=$2
order=${3:-receiver_first}
count=1000
case $order in receiver_first | sender_first) ;; *) fail "unknown order $order" ;; esac

# The URL for a transport. For tcp, receiver-first listens on port 0 and
# reports the port; sender-first must name a port before anyone listens.
url_for() {
  local port=0
  [ "$order" = sender_first ] && port=$(free_port)
  case $transport in
    unix_path) echo "unix://$work/pair.sock" ;;
    unix_abstract) echo "unix://@$uniq" ;;
    fifo) echo "fifo://$work/pair.fifo" ;;
    tcp) echo "tcp://127.0.0.1:$port" ;;
    shm) echo "shm://$uniq" ;;
    mq) echo "mq:///$uniq" ;;
    zmq_ipc) echo "zmq+ipc://$work/pair.zmq" ;;
    zmq_tcp) echo "zmq+tcp://127.0.0.1:$port" ;;
  esac
}

# The receiver listens first: wait until it has printed its URL (it is
# listening then), and hand the sender that URL (with the real port).
receiver_first() {
  local url=$1 receiver
  "${T[@]}" "$bin/receiver" "$url" --count $count --print-url \
    > "$work/out" 2> "$work/receiver.err" &
  receiver=$!
  pids+=("$receiver")
  wait_for "$receiver" "$work/receiver.err" "://"
  url=$(head -n 1 "$work/receiver.err")
  [[ $url != receiver:* ]] || fail "$url"
  seq 1 $count | "${T[@]}" "$bin/sender" "$url" 2> "$work/sender.err" ||
    fail "sender $url: $(cat "$work/sender.err")"
  wait "$receiver" || fail "receiver $url: $(cat "$work/receiver.err")"
}

# The sender starts first and announces that it is connecting; only then
# does the receiver start, and the sender's Connect deadline covers the
# wait. Returns 3 when the receiver could not have the (tcp) port.
sender_first() {
  local url=$1 sender receiver
  seq 1 $count | "${T[@]}" "$bin/sender" "$url" --verbose 2> "$work/sender.err" &
  sender=$!
  pids+=("$sender")
  wait_for "$sender" "$work/sender.err" "sender: connecting to"
  "${T[@]}" "$bin/receiver" "$url" --count $count > "$work/out" 2> "$work/receiver.err" &
  receiver=$!
  pids+=("$receiver")
  if ! wait "$receiver"; then
    if grep -q "in use" "$work/receiver.err"; then
      kill "$sender" 2>/dev/null || true
      wait "$sender" 2>/dev/null || true
      return 3
    fi
    fail "receiver $url: $(cat "$work/receiver.err")"
  fi
  wait "$sender" || fail "sender $url: $(cat "$work/sender.err")"
  grep -q "sender: sent $count messages" "$work/sender.err" ||
    fail "sender $url did not report its messages: $(cat "$work/sender.err")"
}

case $transport in
  pipe)
    # The shell's pipe between the two programs is the channel: the sender
    # writes its stdout (wfd=1), the receiver reads its stdin (rfd=0).
    seq 1 $count | "${T[@]}" "$bin/sender" 'pipe:?wfd=1' |
      "${T[@]}" "$bin/receiver" 'pipe:?rfd=0' > "$work/out" ||
      fail "pipe pipeline failed"
    ;;
  udp)
    # Best effort: a datagram sent before the receiver is bound is lost, so
    # the receiver goes first; five small datagrams on loopback arrive, in
    # order. --timeout because udp cannot see the sender leave.
    count=5
    "${T[@]}" "$bin/receiver" udp://127.0.0.1:0 --count $count --timeout 5 --print-url \
      > "$work/out" 2> "$work/receiver.err" &
    receiver=$!
    pids+=("$receiver")
    wait_for "$receiver" "$work/receiver.err" "udp://"
    url=$(head -n 1 "$work/receiver.err")
    "${T[@]}" "$bin/sender" "$url" 1 2 3 4 5 || fail "udp sender failed"
    wait "$receiver" || fail "udp receiver: $(cat "$work/receiver.err")"
    ;;
  unix_path | unix_abstract | fifo | tcp | shm | mq | zmq_ipc | zmq_tcp)
    for attempt in 1 2 3 4 5; do
      rc=0
      "$order" "$(url_for)" || rc=$?
      [ $rc -eq 3 ] || break
      echo "port taken, retrying ($attempt)" >&2
    done
    [ $rc -eq 0 ] || fail "no free port after 5 attempts"
    ;;
  *)
    fail "unknown transport $transport"
    ;;
esac
same_lines "$work/out" "$(seq 1 $count)" "$transport ($order)"
echo "PASS: $transport ${3:-}"
