#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then uses it as a new user
# would, from README.md's "Using libipc from your project":
#  1. find_package(libipc) with the README's ```cmake block verbatim and no
#     C++ standard set (libipc::ipc must carry cxx_std_20), and no bare
#     library names in the exported link interface;
#  2. pkg-config, with the README's g++ command;
#  3. a channel-only file with the narrow headers (<ipc/channel.h>,
#     <ipc/sync.h>, <ipc/manager.h>) that includes no Protobuf header;
#  4. every doc path a public header cites (docs/X.md) is installed.
set -euo pipefail
build_dir=$1
consumer_src=$2
readme=$(cd "$consumer_src/../../.." && pwd)/README.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
prefix=$work/prefix

# 1. CMake, with the README's block.
awk '/^```cmake$/ {inb=1; next} inb && /^```/ {exit} inb {print}' "$readme" >"$work/readme.cmake"
grep -q 'libipc::ipc' "$work/readme.cmake" || fail "no \`\`\`cmake block with libipc::ipc in $readme"
targets=$(find "$prefix" -name 'libipcTargets.cmake')
if grep -E 'INTERFACE_LINK_LIBRARIES' "$targets" | grep -Eq '(LINK_ONLY:|[";])(zmq|crypto|protobuf)[>";]'; then
  fail "the exported link interface names a library by a bare name: $(grep INTERFACE_LINK_LIBRARIES "$targets")"
fi
cmake -S "$consumer_src" -B "$work/cmake-build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DREADME_SNIPPET="$work/readme.cmake" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
out=$("$work/cmake-build/app")
[ "$out" = "consumer: ping" ] || fail "find_package consumer printed: $out"

# 2. pkg-config, as the README says: g++ -std=c++20 app.cc $(pkg-config ...)
pc_dir=$(dirname "$(find "$prefix" -name libipc.pc | head -n1)")
flags=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs libipc)
# shellcheck disable=SC2086
g++ -std=c++20 "$consumer_src/main.cc" -o "$work/consumer-pc" $flags
out=$("$work/consumer-pc")
[ "$out" = "consumer: ping" ] || fail "pkg-config consumer printed: $out"

# 3. Channel-only: no Protobuf header among its includes, compiled with
# nothing but the installed include directory. The same check on
# <ipc/ipc.h> must see Protobuf, or it would prove nothing.
deps=$(g++ -std=c++20 -I"$prefix/include" -M "$consumer_src/channel_only.cc")
if grep -q 'google/protobuf' <<<"$deps"; then
  fail "<ipc/channel.h>, <ipc/sync.h> or <ipc/manager.h> includes Protobuf: $(grep -o '[^ ]*google/protobuf[^ ]*' <<<"$deps" | head -3)"
fi
echo '#include <ipc/ipc.h>' >"$work/all.cc"
g++ -std=c++20 -I"$prefix/include" -M "$work/all.cc" | grep -q 'google/protobuf' ||
  fail "the Protobuf check is blind: <ipc/ipc.h> shows no Protobuf header"
# shellcheck disable=SC2086
g++ -std=c++20 -I"$prefix/include" "$consumer_src/channel_only.cc" -o "$work/channel-only" $flags
out=$("$work/channel-only")
[ "$out" = "consumer: ping" ] || fail "channel-only consumer printed: $out"

# 4. The docs the installed headers cite.
docdir=$prefix/share/doc/libipc
cited=$(grep -rhoE 'docs/[A-Za-z0-9_.-]+\.md' "$prefix/include/ipc" | sort -u)
[ -n "$cited" ] || fail "no header cites a doc (the check would prove nothing)"
for doc in $cited; do
  [ -f "$docdir/$doc" ] || fail "a header cites $doc but $docdir/$doc is not installed"
done
[ -f "$docdir/README.md" ] || fail "README.md is not installed in $docdir"
service=$(find "$prefix" -name ipcd.service | head -n1)
if [ -n "$service" ]; then
  doc=$(sed -n 's|^Documentation=file:||p' "$service")
  [ -f "$doc" ] || fail "ipcd.service's Documentation=file:$doc is not installed"
fi

echo "install_consumer: find_package (no standard set), pkg-config, channel-only (no Protobuf) and docs OK"
