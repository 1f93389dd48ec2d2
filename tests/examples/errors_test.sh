#!/usr/bin/env bash
# What sender and receiver do when something is wrong: a non-zero exit and
# one line on stderr, "sender: URL: reason", never a hang or a crash.
#   errors_test.sh BIN_DIR CASE
# CASE: bad_url, unreachable, receiver, usage
source "$(dirname "$0")/lib.sh" "$1"

# expect_error PREFIX TEXT CMD...: CMD must fail (not time out, not crash)
# printing nothing on stdout and exactly one line on stderr that starts
# with PREFIX and contains TEXT.
expect_error() {
  local prefix=$1 text=$2 rc=0 err
  shift 2
  "${T[@]}" "$@" > "$work/stdout" 2> "$work/stderr" || rc=$?
  err=$(cat "$work/stderr")
  [ $rc -eq 1 ] || fail "'$*' exited with $rc, not 1: $err"
  [ "$(wc -l < "$work/stderr")" -eq 1 ] || fail "'$*' printed more than one line: $err"
  [[ $err == "$prefix"* ]] || fail "'$*' printed '$err', not '$prefix...'"
  [[ $err == *"$text"* ]] || fail "'$*' printed '$err', without '$text'"
  [ ! -s "$work/stdout" ] || fail "'$*' printed on stdout: $(cat "$work/stdout")"
}

# millis: a clock for checking that a deadline was kept.
millis() { echo $(($(date +%s%N) / 1000000)); }

case $2 in
  bad_url)
    # Refused at once, with the URL and what is wrong with it.
    expect_error "sender: bogus://x: " "unknown scheme 'bogus'" "$bin/sender" bogus://x hi
    expect_error "receiver: bogus://x: " "unknown scheme 'bogus'" "$bin/receiver" bogus://x
    url="unix://$work/a.sock?colour=blue"
    expect_error "receiver: $url: " "'colour'" "$bin/receiver" "$url"
    expect_error "sender: tcp://127.0.0.1: " "host:port" "$bin/sender" tcp://127.0.0.1 hi
    expect_error "receiver: tcp://127.0.0.1:99999: " "port" "$bin/receiver" tcp://127.0.0.1:99999
    expect_error "sender: fifo://relative: " "absolute" "$bin/sender" fifo://relative hi
    # Text that is no URL at all: libipc says so, quoting it.
    expect_error "receiver: " "'not a url'" "$bin/receiver" "not a url"
    ;;
  unreachable)
    # Nobody listens: the sender waits out --timeout, then says so, naming
    # the URL. 0.3 s requested; well under 5 s taken, even on a busy box.
    for url in "unix://$work/nobody.sock" "unix://@$uniq-nobody" \
               "fifo://$work/nobody.fifo" "tcp://127.0.0.1:$(free_port)" \
               "shm://$uniq-nobody" "mq:///$uniq-nobody"; do
      start=$(millis)
      expect_error "sender: $url: " "no listener appeared in time" \
        "$bin/sender" "$url" --timeout 0.3 hi
      took=$(($(millis) - start))
      [ $took -ge 300 ] && [ $took -lt 5000 ] || fail "$url: gave up after $took ms"
    done
    ;;
  receiver)
    # No sender within --timeout.
    url="unix://$work/lonely.sock"
    expect_error "receiver: $url: " "deadline exceeded" "$bin/receiver" "$url" --timeout 0.3
    # The name is taken by a live receiver.
    url="unix://$work/taken.sock"
    "${T[@]}" "$bin/receiver" "$url" --print-url 2> "$work/first.err" > /dev/null &
    first=$!
    pids+=("$first")
    wait_for "$first" "$work/first.err" "$url"
    expect_error "receiver: $url: " "already" "$bin/receiver" "$url"
    # The sender leaves after 3 of the 5 messages asked for: what came is
    # printed, then the shortfall is an error.
    url="unix://$work/short.sock"
    "${T[@]}" "$bin/receiver" "$url" --count 5 --print-url > "$work/out" 2> "$work/short.err" &
    receiver=$!
    pids+=("$receiver")
    wait_for "$receiver" "$work/short.err" "$url"
    "${T[@]}" "$bin/sender" "$url" a b c
    rc=0
    wait "$receiver" || rc=$?
    [ $rc -eq 1 ] || fail "receiver of 3 of 5 messages exited with $rc"
    same_lines "$work/out" "$(printf 'a\nb\nc')" "receiver of 3 of 5 messages"
    grep -qF "receiver: $url: peer closed the channel (after 3 of 5 messages)" "$work/short.err" ||
      fail "receiver of 3 of 5 messages said: $(cat "$work/short.err")"
    ;;
  usage)
    for program in sender receiver; do
      rc=0
      "$bin/$program" > /dev/null 2> "$work/err" || rc=$?
      [ $rc -eq 2 ] && grep -q "^usage: $program URL" "$work/err" ||
        fail "$program without arguments: rc=$rc: $(cat "$work/err")"
      "$bin/$program" --help > "$work/out" || fail "$program --help failed"
      grep -q "^usage: $program URL" "$work/out" || fail "$program --help: $(cat "$work/out")"
      rc=0
      "$bin/$program" unix:///x --bogus > /dev/null 2> "$work/err" || rc=$?
      [ $rc -eq 2 ] && grep -q "unknown option '--bogus'" "$work/err" ||
        fail "$program --bogus: rc=$rc: $(cat "$work/err")"
    done
    rc=0
    "$bin/receiver" unix:///x --count many > /dev/null 2> "$work/err" || rc=$?
    [ $rc -eq 2 ] && grep -q "count expects a whole number" "$work/err" ||
      fail "receiver --count many: rc=$rc: $(cat "$work/err")"
    ;;
  *)
    fail "unknown case $2"
    ;;
esac
echo "PASS: errors $2"
