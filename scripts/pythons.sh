#!/usr/bin/env bash
# Debian's own CPython 3.14 and 3.15 builds, with headers, in a cache the
# project owns.  The build, the tests, CI and the README's commands all get
# these two interpreters from this one script.
#
#   scripts/pythons.sh [fetch]      fetch whatever is missing, then check both
#   scripts/pythons.sh check        check both, fetch nothing (exit 1 if missing)
#   scripts/pythons.sh path 3.14    print the interpreter to run (exit 1 if missing)
#
# Cache: $TORNSTACK_PYTHONS_CACHE, default <checkout>/.cache/pythons
# (gitignored).  Inside it:
#   apt/      a private apt configuration (sources, lists, package cache):
#             the machine's own apt state is never touched
#   debs/     the downloaded .deb files
#   root/     every .deb unpacked with `dpkg -x`; Debian's files are left
#             exactly as shipped
#   root/usr/local/bin/python3.X   a two-line wrapper that starts Debian's
#             root/usr/bin/python3.X through the unpacked libc's loader
#   bin/python3.X                  symlink to that wrapper (what tools run)
#   versions.txt                   package versions that were unpacked
#
# Why a wrapper: these builds need a newer glibc than Debian 12's, so the
# unpacked suite's own loader starts them (`ld-linux-x86-64.so.2
# --library-path ROOT/usr/lib/x86_64-linux-gnu`).  `--argv0` names the
# wrapper, so sys.executable is the wrapper (child processes started with
# sys.executable work) and sys.prefix resolves to ROOT/usr.  The process
# still maps Debian's python3.X executable, which is what a reader of its
# memory looks at.
#
# Where the packages come from: the `testing` suite of the Debian mirror this
# machine already uses (read from /etc/apt/sources.list and
# /etc/apt/sources.list.d/; override with $TORNSTACK_DEBIAN_MIRROR), signed
# with the machine's Debian archive keyring.  No host is written in the repo.
#
# Idempotent: an interpreter that is present and imports asyncio, _asyncio
# and _remote_debugging is left alone.  Every step is printed; every failure
# names what is missing and exits 1.
set -euo pipefail

ts_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${TORNSTACK_PYTHONS_CACHE:-$ts_root/.cache/pythons}"
suite="${TORNSTACK_DEBIAN_SUITE:-testing}"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
versions=(3.14 3.15)
arch=x86_64-linux-gnu

say() { echo "pythons: $*"; }
die() {
    echo "pythons: FAILED: $*" >&2
    exit 1
}

# The interpreters' own packages, that suite's C library, and every library
# their executables and extension modules link (readelf -d / ld.so --list:
# checked after unpacking by ts_check_closure).
ts_debs() {
    local v
    for v in "${versions[@]}"; do
        echo "python$v python$v-minimal libpython$v-minimal libpython$v-stdlib libpython$v"
        echo "libpython$v-dev python$v-dev"
    done
    echo "libc6 libgcc-s1 libssl3t64 libexpat1 zlib1g libzstd1 libffi8 libmpdec4 libbz2-1.0"
    echo "liblzma5 libsqlite3-0 libreadline8t64 libncursesw6 libtinfo6 libuuid1 libdb5.3t64"
}

# The URI of the machine's Debian archive: the first `deb` source whose URI
# ends in /debian (one-line sources.list entries and deb822 .sources files).
ts_mirror() {
    local f uri
    if [ -n "${TORNSTACK_DEBIAN_MIRROR:-}" ]; then
        echo "$TORNSTACK_DEBIAN_MIRROR"
        return 0
    fi
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        uri=$(sed -n -E 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([a-z+]+:\/\/[^[:space:]]*\/debian\/?)[[:space:]].*/\2/p' "$f" |
              head -n 1)
        if [ -n "$uri" ]; then
            echo "${uri%/}"
            return 0
        fi
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        uri=$(awk '
            /^[[:space:]]*$/ { if (deb && uri != "") { print uri; exit } deb = 0; uri = ""; next }
            /^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
            /^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/ && uri == "") uri = $i }
            END { if (deb && uri != "") print uri }' "$f" | head -n 1)
        if [ -n "$uri" ]; then
            echo "${uri%/}"
            return 0
        fi
    done
    return 1
}

# apt-get/apt-cache with a private configuration under $cache/apt.
ts_apt() {
    local tool="$1"
    shift
    "$tool" -o Dir::Etc::SourceList="$cache/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$cache/apt/lists" -o Dir::Cache="$cache/apt/cache" \
        -o APT::Architecture=amd64 -o APT::Sandbox::User=root -o Debug::NoLocking=1 "$@"
}

# Is interpreter $1 (minor $2) usable: right version, the modules a reader
# of Tasks needs, and its headers?
ts_works() {
    local py="$1" v="$2"
    [ -x "$py" ] || return 1
    "$py" -c "
import sys, os, sysconfig
import asyncio, _asyncio, _remote_debugging
assert '%d.%d' % sys.version_info[:2] == '$v', sys.version
assert os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h'))
" >/dev/null 2>&1
}

ts_wrapper() {
    local v="$1" lib="$cache/root/usr/lib/$arch" w="$cache/root/usr/local/bin/python$v"
    mkdir -p "$cache/root/usr/local/bin" "$cache/bin"
    cat >"$w" <<EOF
#!/bin/sh
# Written by scripts/pythons.sh: Debian's python$v through its own suite's loader.
exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib" --argv0 "$w" "$cache/root/usr/bin/python$v" "\$@"
EOF
    chmod 755 "$w"
    ln -sfn "../root/usr/local/bin/python$v" "$cache/bin/python$v"
}

# Every shared library the executables, libpython and the extension modules
# need must resolve inside the unpacked root (never to the machine's older
# libraries, which would mix two C libraries in one process).
ts_check_closure() {
    local lib="$cache/root/usr/lib/$arch" f out bad=""
    for f in "$cache"/root/usr/bin/python3.1[45] "$lib"/libpython3.1[45].so.1.0 \
             "$cache"/root/usr/lib/python3.1[45]/lib-dynload/*.so; do
        [ -e "$f" ] || continue
        out=$("$lib/ld-linux-x86-64.so.2" --library-path "$lib" --list "$f" 2>&1 || true)
        out=$(printf '%s\n' "$out" | grep '=>' | grep -v "=> $cache/root/" || true)
        if [ -n "$out" ]; then
            bad="$bad
  ${f#"$cache"/root/}:$(printf ' %s' $out)"
        fi
    done
    if [ -n "$bad" ]; then
        die "libraries resolve outside $cache/root (add their packages to ts_debs):$bad"
    fi
}

# The .deb of package $1 in $cache/debs, if one is there whole (dpkg-deb
# can read its control part); nothing otherwise.
ts_deb_of() {
    local f
    for f in "$cache/debs/${1}_"*.deb; do
        if [ -e "$f" ] && dpkg-deb --field "$f" Package >/dev/null 2>&1; then
            echo "$f"
            return 0
        fi
    done
    return 1
}

# Download packages $2... from mirror $1 into $cache/debs.  A fetch once
# ended with one .deb of thirty absent although apt-get had returned: every
# package is checked to be there and readable afterwards, and what is not
# is downloaded again, up to three passes, before the fetch fails naming it.
ts_download() {
    local mirror="$1" pass p want=()
    shift
    want=("$@")
    for pass in 1 2 3; do
        (cd "$cache/debs" && ts_apt apt-get -qq download "${want[@]}") ||
            say "pass $pass: apt-get download from $mirror $suite failed"
        local missing=()
        for p in "${want[@]}"; do
            ts_deb_of "$p" >/dev/null || missing+=("$p")
        done
        if [ "${#missing[@]}" -eq 0 ]; then
            return 0
        fi
        for p in "${missing[@]}"; do
            rm -f "$cache/debs/${p}_"*.deb
        done
        want=("${missing[@]}")
        if [ "$pass" -lt 3 ]; then
            say "pass $pass: ${want[*]} did not arrive whole; downloading again"
            sleep 10
        fi
    done
    die "apt-get download from $mirror $suite did not deliver ${want[*]}"
}

ts_fetch() {
    local mirror pkgs missing=() p pass
    command -v apt-get >/dev/null || die "apt-get is needed (Debian or Ubuntu)"
    command -v dpkg >/dev/null || die "dpkg is needed (Debian or Ubuntu)"
    [ -r "$keyring" ] || die "$keyring is missing: apt-get install debian-archive-keyring"
    mirror=$(ts_mirror) || die "no Debian mirror in /etc/apt/sources.list or /etc/apt/sources.list.d/ (set TORNSTACK_DEBIAN_MIRROR=http://.../debian)"
    mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" "$cache/debs"
    echo "deb [signed-by=$keyring] $mirror $suite main" >"$cache/apt/sources.list"
    say "package lists of Debian $suite from $mirror (private apt state in $cache/apt)"
    read -r -a pkgs <<<"$(ts_debs | tr '\n' ' ')"
    # A mirror in the middle of its sync (testing moves several times a
    # day) can serve lists that lack packages the next pass has: the lists
    # are fetched again, up to three passes, before a package is missing.
    for pass in 1 2 3; do
        missing=()
        ts_apt apt-get -qq update || die "apt-get update of $suite from $mirror failed"
        # apt-get update only warns when an index cannot be fetched.
        compgen -G "$cache/apt/lists/*_dists_${suite}_main_binary-amd64_Packages*" >/dev/null ||
            die "could not download the package lists of Debian $suite from $mirror (see apt's messages above)"
        for p in "${pkgs[@]}"; do
            ts_apt apt-cache show "$p" >/dev/null 2>&1 || missing+=("$p")
        done
        if [ "${#missing[@]}" -eq 0 ]; then
            break
        fi
        if [ "$pass" -lt 3 ]; then
            say "pass $pass: Debian $suite lists lack ${missing[*]}; fetching them again"
            rm -rf "$cache/apt/lists"
            mkdir -p "$cache/apt/lists/partial"
            sleep 15
        fi
    done
    [ "${#missing[@]}" -eq 0 ] || die "Debian $suite has no package ${missing[*]}"
    say "downloading ${#pkgs[@]} packages into $cache/debs"
    rm -f "$cache"/debs/*.deb
    ts_download "$mirror" "${pkgs[@]}"
    say "unpacking into $cache/root"
    rm -rf "$cache/root" "$cache/bin"
    mkdir -p "$cache/root"
    : >"$cache/versions.txt"
    for p in "$cache"/debs/*.deb; do
        dpkg-deb -x "$p" "$cache/root" || die "dpkg -x $p failed"
        dpkg-deb --showformat="\${Package} \${Version}\n" -W "$p" >>"$cache/versions.txt"
    done
    [ -x "$cache/root/usr/lib/$arch/ld-linux-x86-64.so.2" ] || die "libc6 of $suite has no loader"
    ts_check_closure
}

ts_report() {
    local v py
    for v in "${versions[@]}"; do
        py="$cache/bin/python$v"
        say "$("$py" -c 'import sys; print("CPython %s" % sys.version.split()[0])') at $py" \
            "(headers $("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])'))"
    done
}

ts_all_work() {
    local v
    for v in "${versions[@]}"; do
        ts_works "$cache/bin/python$v" "$v" || return 1
    done
}

cmd="${1:-fetch}"
case "$cmd" in
fetch)
    if ts_all_work; then
        say "present in $cache, nothing to fetch"
        ts_report
        exit 0
    fi
    mkdir -p "$cache"
    exec 9>"$cache/.lock"
    flock 9
    if ! ts_all_work; then # another run may have finished meanwhile
        ts_fetch
        for v in "${versions[@]}"; do
            ts_wrapper "$v"
            ts_works "$cache/bin/python$v" "$v" ||
                die "python$v was unpacked but does not start or lacks asyncio, _asyncio, _remote_debugging or its headers; try: $cache/bin/python$v -c 'import asyncio, _asyncio, _remote_debugging'"
        done
    fi
    ts_report
    ;;
check)
    for v in "${versions[@]}"; do
        ts_works "$cache/bin/python$v" "$v" ||
            die "CPython $v is missing or broken in $cache: run scripts/pythons.sh"
    done
    ts_report
    ;;
path)
    v="${2:-}"
    case "$v" in 3.14 | 3.15) ;; *) die "usage: scripts/pythons.sh path 3.14|3.15" ;; esac
    ts_works "$cache/bin/python$v" "$v" || die "CPython $v is missing in $cache: run scripts/pythons.sh"
    echo "$cache/bin/python$v"
    ;;
*)
    die "usage: scripts/pythons.sh [fetch | check | path 3.14|3.15]"
    ;;
esac
