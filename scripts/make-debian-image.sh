#!/usr/bin/env bash
# Makes a minimal Debian root filesystem in DIR, for `goldhour triage --root` tests.
#
# debootstrap (--variant=minbase, plus the packages that give the collectors something real to read:
# sshd, cron, nginx, sudo, systemd, rsyslog) of the suite this machine runs, from the mirror its apt sources
# name. The debootstrapped tree is cached under $GOLDHOUR_IMAGE_CACHE (default /var/cache/goldhour-test),
# keyed by suite, architecture and package list, so repeated runs copy it instead of downloading again.
# DIR receives a private copy the caller may change freely.
#
# Exit codes: 0 done; 2 bad usage or not root; 3 debootstrap could not fetch or install the system
# (no network or mirror); 1 anything else.
set -euo pipefail

usage() { echo "usage: $0 DIR   (DIR must not exist or be empty; run as root)" >&2; exit 2; }
(($# == 1)) || usage
dest=$1
[[ $(id -u) == 0 ]] || { echo "$0: debootstrap needs root" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "$0: debootstrap is not installed (scripts/install-test-deps.sh installs it)" >&2; exit 2; }
if [[ -e $dest ]] && [[ -n $(ls -A "$dest") ]]; then echo "$0: $dest exists and is not empty" >&2; exit 2; fi

# shellcheck source=/dev/null
suite=${GOLDHOUR_IMAGE_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}
[[ -n $suite ]] || { echo "$0: cannot tell this machine's Debian suite (set GOLDHOUR_IMAGE_SUITE)" >&2; exit 2; }
arch=$(dpkg --print-architecture)
include=openssh-server,cron,nginx,sudo,systemd,rsyslog

# The first mirror this machine's own apt sources use for the suite (one-line and deb822 formats).
mirror_of() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    awk -v s="$1" '{ sub(/\[[^]]*\]/, "") } $1 == "deb" && $3 == s { print $2; exit }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    awk -v s="$1" 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; ok = 0; deb = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
          if ($i ~ /^Suites:/) { n = split($i, b, /[ \t]+/); for (j = 2; j <= n; j++) if (b[j] == s) ok = 1 }
          if ($i ~ /^Types:.*(^|[ \t])deb([ \t]|$)/) deb = 1
        }
        if (ok && deb && uri != "") { print uri; exit } }' "$f"
  done
}
mirror=${GOLDHOUR_DEBIAN_MIRROR:-$(mirror_of "$suite" | head -n 1)}
[[ -n $mirror ]] || { echo "$0: no apt source on this machine serves '$suite' (set GOLDHOUR_DEBIAN_MIRROR)" >&2; exit 3; }

cache_base=${GOLDHOUR_IMAGE_CACHE:-/var/cache/goldhour-test}
key=$(printf '%s\n' "$suite" "$arch" "$include" minbase | sha256sum | cut -c1-12)
cache=$cache_base/debian-$suite-$arch-$key
mkdir -p "$cache_base"

# Undoes whatever debootstrap left mounted in a tree before removing it (a bind-mounted /dev must never be emptied).
remove_tree() {
  local t=$1 m
  [[ -e $t ]] || return 0
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(findmnt -rn -o TARGET | grep -F "$t/" | sort -r)
  rm -rf --one-file-system "$t"
}

exec 9>"$cache_base/.lock"
flock 9
# a build that was killed before its trap ran (the lock says no other is under way)
for stale in "$cache".building.*; do if [[ -d $stale ]]; then remove_tree "$stale"; fi; done
rm -f "$cache".building.*.log
if [[ ! -d $cache/root ]]; then
  build=$cache.building.$$
  trap 'remove_tree "$build"' EXIT
  mkdir -p "$build"
  echo "make-debian-image: debootstrap $suite ($arch, minbase + $include) from $mirror; cached in $cache" >&2
  start=$SECONDS
  if ! timeout 1200 debootstrap --variant=minbase --include="$include" --arch="$arch" "$suite" "$build/root" "$mirror" >"$build.log" 2>&1; then
    echo "make-debian-image: debootstrap failed; the last lines of its log:" >&2
    tail -n 15 "$build.log" >&2
    rm -f "$build.log"
    exit 3
  fi
  # debootstrap unmounts its /proc and /sys when it succeeds; a copy must never carry live mounts along
  if findmnt -rn -o TARGET | grep -qF "$build/"; then echo "make-debian-image: debootstrap left mounts under $build" >&2; exit 1; fi
  echo "make-debian-image: debootstrap took $((SECONDS - start)) s" >&2
  mkdir -p "$cache"
  mv "$build/root" "$cache/root"
  rm -rf "$build" "$build.log"
  trap - EXIT
fi

start=$SECONDS
mkdir -p "$dest"
cp -a --reflink=auto "$cache/root/." "$dest/"
echo "make-debian-image: copied the cached image into $dest in $((SECONDS - start)) s" >&2
