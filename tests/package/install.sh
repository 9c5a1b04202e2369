#!/usr/bin/env bash
# Installs the .deb into a throwaway Debian root (debootstrap, minbase) with apt, then checks
# what the maintainer scripts promise: the noticed group and user exist, the policy is a valid
# conffile readable by the group; `remove` keeps state and the admin's policy edits, a reinstall
# keeps the edits, `purge` deletes state and the policy. Needs root and access to a Debian
# mirror; installs debootstrap when missing. Run after tests/package/test.sh (which builds it).
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }

deb=$(ls target/debian/noticed_*.deb 2>/dev/null | tail -1)
[ -n "$deb" ] || deb=$(packaging/build-deb.sh)
if ! command -v debootstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
echo "== debootstrap a minimal bookworm root"
debootstrap --variant=minbase bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/dev/null
cp "$deb" "$root/tmp/noticed.deb"
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive bash -c "$1"; }

echo "== apt install"
in_root 'apt-get install -y -qq /tmp/noticed.deb >/dev/null 2>&1'
in_root 'getent group noticed >/dev/null' || fail "no noticed group"
in_root 'id -nG noticed | grep -qw adm' || fail "noticed cannot read /var/log (not in adm)"
[ "$(in_root 'stat -c %G:%a /etc/noticed/policy.toml')" = "noticed:640" ] || fail "policy.toml is not noticed:640"
in_root 'noticed --version && noticed policy check /etc/noticed/policy.toml'
in_root 'noticed notice --lang nl | head -1'

echo "== remove keeps state and edits; reinstall keeps edits; purge deletes both"
in_root 'echo "# edited by the admin" >> /etc/noticed/policy.toml; mkdir -p /var/lib/noticed; echo x > /var/lib/noticed/spool.redb'
in_root 'apt-get remove -y -qq noticed >/dev/null 2>&1'
in_root 'test -f /var/lib/noticed/spool.redb' || fail "remove deleted the state"
in_root 'grep -q "edited by the admin" /etc/noticed/policy.toml' || fail "remove lost the policy edit"
in_root 'apt-get install -y -qq /tmp/noticed.deb >/dev/null 2>&1'
in_root 'grep -q "edited by the admin" /etc/noticed/policy.toml' || fail "reinstall replaced the edited conffile"
in_root 'apt-get purge -y -qq noticed >/dev/null 2>&1'
in_root 'test ! -e /var/lib/noticed' || fail "purge kept the state"
in_root 'test ! -e /etc/noticed/policy.toml' || fail "purge kept the policy"
echo "== the package installs, upgrades, removes and purges as promised"
