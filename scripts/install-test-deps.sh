#!/usr/bin/env bash
# Installs what the tests need from Debian's packages; nothing is assumed present.
set -euo pipefail
# binutils: strip, for the single-file build; nftables/iptables, bpftool, e2fsprogs (chattr, lsattr) and
# libcap2-bin (getcap): real programs the collectors run on a live host, exercised by the end-to-end tests;
# debootstrap: builds the Debian image that test/e2e/root-image.test.ts triages with --root (scripts/make-debian-image.sh)
pkgs=(age zip unzip openssl tar gzip coreutils util-linux iproute2 time procps binutils
  nftables iptables bpftool e2fsprogs libcap2-bin debootstrap)
# pcap: capture tools goldhour drives (tcpdump, dumpcap) and the readers that check its files (capinfos, tshark);
# wireshark-common asks whether non-root users may capture: answered no, so the install never waits on a prompt
pkgs+=(tcpdump wireshark-common tshark)
dpkg-query -W -f='${Status}' wireshark-common 2>/dev/null | grep -q 'install ok installed' || echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
# memory: readelf (binutils, above) and gdb read the process cores goldhour writes (test/unit/memory-process.test.ts)
pkgs+=(gdb)
# yara: Debian's YARA 4.2, the reference the YARA-X scans of --yara are checked against (test/unit/yara-scan.test.ts, bench/yara.ts)
pkgs+=(yara)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
