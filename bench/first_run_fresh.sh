#!/usr/bin/env bash
# Times the README's first command on a fresh Debian 12 system: a minimal bookworm made by
# debootstrap in a chroot (nothing installed but Debian's essential packages), a clone of this
# repository's HEAD and ../shared beside it, then `bash scripts/run-default.sh`, each output line
# stamped with the seconds since the start. Run as root on a Debian machine; needs network to
# deb.debian.org and PyPI. The log (and the total) go to $LOG (default /tmp/first_run_fresh.log).
#   bench/first_run_fresh.sh [CHROOT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${1:-/tmp/lp-fresh-chroot}"
LOG="${LOG:-/tmp/first_run_fresh.log}"
command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap; }

unmount() { for m in proc dev sys; do umount -R -l "$ROOT/$m" 2>/dev/null || true; done; }
trap unmount EXIT
unmount
rm -rf "$ROOT"
debootstrap --variant=minbase bookworm "$ROOT" http://deb.debian.org/debian >/dev/null
mount -t proc proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
mount --rbind /sys "$ROOT/sys"
cp /etc/resolv.conf "$ROOT/etc/"
# A machine behind an intercepting proxy needs its certificate authorities (and pip's setting
# for them) inside the chroot too; elsewhere there is nothing to copy.
if [ -d /usr/local/share/ca-certificates ]; then
  mkdir -p "$ROOT/usr/local/share/ca-certificates" "$ROOT/etc/ssl/certs"
  cp -r /usr/local/share/ca-certificates/. "$ROOT/usr/local/share/ca-certificates/"
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/"
fi
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$ROOT/etc/"
mkdir -p "$ROOT/root/work"
git clone -q "$PWD" "$ROOT/root/work/main"
cp -r ../shared "$ROOT/root/work/shared"

cat >"$ROOT/root/timed.sh" <<'EOF'
#!/bin/bash
cd /root/work/main
start=${EPOCHREALTIME/./}
bash scripts/run-default.sh 2>&1 | while IFS= read -r line; do
  now=${EPOCHREALTIME/./}; printf '%6d s %s\n' $(( (now - start) / 1000000 )) "$line"
done
now=${EPOCHREALTIME/./}; echo "clone to report: $(( (now - start) / 1000000 )) s"
EOF
chmod +x "$ROOT/root/timed.sh"
# Only the chroot's own settings: the host's pip wheel folder would not be on a fresh machine.
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb chroot "$ROOT" /root/timed.sh | tee "$LOG" |
  grep --line-buffered -E '==>|Linking CXX executable|report:|clone to report'
