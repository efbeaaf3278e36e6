#!/usr/bin/env bash
# quickstart.sh — the README's two commands.
#
#   ./quickstart.sh demo   install what is missing, build, run the bundled sample
#                          (examples/) through conf/demo.ini, validate the zip
#   ./quickstart.sh test   install what is missing, build, run the whole test suite:
#                          warnings as errors, again under AddressSanitizer +
#                          UndefinedBehaviorSanitizer, the core tests under valgrind;
#                          ends with "N passed, N failed"
#
# Everything comes from Debian 12 packages.  Run as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

packages=(
  build-essential autoconf automake libtool pkg-config autopoint gettext
  libglib2.0-dev libcurl4-openssl-dev libjson-c-dev libarchive-dev
  libjpeg-dev libpng-dev libwebp-dev libsoup-3.0-dev
  libopencv-dev opencv-data libdlib-dev libdlib-data
  valgrind locales ca-certificates
  chromium fonts-noto-cjk
)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_deps() {
  local missing=() p sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # The zh_CN catalog is tested for real, so the locale must exist.
  if ! locale -a 2>/dev/null | grep -qi '^zh_CN\.utf-\?8$'; then
    say "generating the zh_CN.UTF-8 locale"
    $sudo sed -i 's/^# *zh_CN.UTF-8 UTF-8/zh_CN.UTF-8 UTF-8/' /etc/locale.gen
    grep -q '^zh_CN.UTF-8 UTF-8' /etc/locale.gen || echo 'zh_CN.UTF-8 UTF-8' | $sudo tee -a /etc/locale.gen >/dev/null
    $sudo locale-gen >/dev/null
  fi
}

# build DIR [configure options...]: out-of-tree build, reconfigured when the options change.
build() {
  local dir=$1; shift
  [ -x configure ] || { say "autogen"; ./autogen.sh >/dev/null 2>&1; }
  mkdir -p "$dir"
  if [ ! -f "$dir/Makefile" ] || [ "$(cat "$dir/.vh-options" 2>/dev/null)" != "$*" ]; then
    say "configure $dir $*"
    (cd "$dir" && "$top/configure" -q "$@")
    echo "$*" > "$dir/.vh-options"
  fi
  say "make ($dir)"
  make -C "$dir" -j"$jobs" >"$dir/make.log" 2>&1 || { tail -40 "$dir/make.log"; exit 1; }
}

plugin_path() {
  local b=$1
  echo "$b/plugins/wanx/.libs:$b/plugins/flux-remote/.libs:$b/plugins/local-faceswap/.libs:$b/plugins/retry-fallback/.libs:$b/plugins/aliyun-deepfake/.libs:$b/plugins/tencent-aifake/.libs:$b/plugins/aliyun-aigc/.libs:$b/plugins/sequence/.libs"
}

demo() {
  install_deps
  build build
  local emu_log port pid out=out/demo
  mkdir -p out
  emu_log=$(mktemp)
  # The demo's cloud routes talk to the project's own emulator of the
  # DashScope and Black Forest Labs protocols on 127.0.0.1 (no internet here).
  say "starting the provider emulator on 127.0.0.1:18080"
  coproc EMU { exec build/tests/emulator/vh-emulator --port 18080 --lifetime 900; }
  read -r _ port <&"${EMU[0]}"
  trap 'kill $EMU_PID 2>/dev/null || true' EXIT
  say "vhost --config conf/demo.ini   (emulator on port $port)"
  set +e
  # The emulator's test credentials (never real ones).
  DASHSCOPE_API_KEY=sk-test BFL_API_KEY=bfl-test \
  ALIBABA_CLOUD_ACCESS_KEY_ID=LTAItestkey0000001 ALIBABA_CLOUD_ACCESS_KEY_SECRET=test-secret \
  TENCENTCLOUD_SECRET_ID=AKIDtest0000000000000000 TENCENTCLOUD_SECRET_KEY=test-secret-key \
  VHOST_PLUGIN_PATH=$(plugin_path "$top/build") \
    build/vhost --config conf/demo.ini --output "$out"
  local rc=$?
  set -e
  say "vhost validate $out/result.zip --tasks examples/task.csv"
  build/vhost validate "$out/result.zip" --tasks examples/task.csv || true
  echo "Images: $out/imgs/   journal: $out/journal.jsonl   report: $out/report.html"
  return $rc
}

# Counts TAP results of the given .trs files: sets passed/failed.
count_results() {
  local f r
  for f in "$@"; do
    [ -f "$f" ] || continue
    while read -r _ r _; do
      case $r in
        PASS|XFAIL) passed=$((passed + 1)) ;;
        FAIL|XPASS|ERROR|SKIP) failed=$((failed + 1)) ;;   # a skip is a defect here
      esac
    done < <(grep '^:test-result:' "$f")
  done
}

run_checks() {
  local dir=$1 label=$2; shift 2
  say "make check ($label)"
  find "$dir" -name '*.trs' -delete
  make -C "$dir" -j"$jobs" -k "$@" >"$dir/check.log" 2>&1 || {
    grep -E '^(FAIL|ERROR):' "$dir/check.log" || tail -30 "$dir/check.log"
  }
  count_results $(find "$dir" -name '*.trs')
}

test_suite() {
  install_deps
  passed=0 failed=0
  build build
  run_checks build "warnings as errors" check
  build build-asan --enable-sanitizers
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_checks build-asan "AddressSanitizer + UBSan" check
  run_checks build "valgrind, core tests" check-valgrind
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

case "${1:-}" in
  demo) demo ;;
  test) test_suite ;;
  *) echo "usage: $0 demo|test" >&2; exit 1 ;;
esac
