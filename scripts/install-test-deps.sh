#!/usr/bin/env bash
# Installs what the tests need from Debian's packages; nothing is assumed present.
set -euo pipefail
# binutils: strip, for the single-file build; nftables/iptables, bpftool, e2fsprogs (chattr, lsattr) and
# libcap2-bin (getcap): real programs the collectors run on a live host, exercised by the end-to-end tests
pkgs=(age zip unzip openssl tar gzip coreutils util-linux iproute2 time procps binutils
  nftables iptables bpftool e2fsprogs libcap2-bin)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
