#!/usr/bin/env bash
# Builds the .deb, checks its contents and maintainer scripts, verifies the systemd unit and
# fails unless `systemd-analyze security` rates its exposure at most 2.0, then installs the
# package's files into a throwaway root (a container-less chroot with the binary's shared
# libraries) and runs `noticed --version` and `noticed policy check` there.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
# The most exposure `systemd-analyze security` may give the unit (it scores 1.9 today).
max_exposure=2.0

deb=$(packaging/build-deb.sh)
echo "== built $deb"
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/noticed ./etc/noticed/policy.toml ./usr/share/man/man1/noticed.1.gz \
         ./usr/share/bash-completion/completions/noticed ./usr/share/zsh/vendor-completions/_noticed \
         ./usr/share/fish/vendor_completions.d/noticed.fish \
         ./usr/share/doc/noticed/examples/vendor-notice.toml; do
  grep -q " $f\$" <<<"$contents" || fail "$f is not in the package"
done
unit_path=$(grep -oE '\./(usr/)?lib/systemd/system/noticed\.service' <<<"$contents" | head -1)
[ -n "$unit_path" ] || fail "the systemd unit is not in the package"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -e "$deb" "$work/control"
grep -qx '/etc/noticed/policy.toml' "$work/control/conffiles" || fail "policy.toml is not a conffile"
for s in postinst postrm prerm; do
  [ -f "$work/control/$s" ] && { sh -n "$work/control/$s" || fail "$s does not parse"; }
done
grep -q 'addgroup --system --quiet noticed' "$work/control/postinst" || fail "postinst creates no group"
grep -q 'deb-systemd-helper enable' "$work/control/postinst" || fail "postinst does not enable the unit"
grep -q 'rm -rf /var/lib/noticed' "$work/control/postrm" || fail "purge does not remove state"
awk '/"\$1" = "purge"/,/fi/' "$work/control/postrm" | grep -q 'rm -rf /var/lib/noticed' \
  || fail "state is removed outside purge"
echo "== contents, conffiles and maintainer scripts ok"

root="$work/root"
dpkg-deb -x "$deb" "$root"
echo "== systemd-analyze verify"
# The unit as installed, pointed at the extracted binary (this host has no /usr/bin/noticed).
sed "s|/usr/bin/noticed|$root/usr/bin/noticed|" "$root/$unit_path" > "$work/noticed.service"
systemd-analyze verify --man=no "$work/noticed.service" 2>&1 | tee "$work/verify.log"
[ ! -s "$work/verify.log" ] || fail "systemd-analyze verify reported problems"
echo "== systemd-analyze security (exposure: lower is better, at most $max_exposure)"
systemd-analyze security --offline=true "$work/noticed.service" 2>/dev/null | tail -1 | tee "$work/score"
exposure=$(sed -nE 's/.*Overall exposure level for noticed\.service: ([0-9]+(\.[0-9]+)?).*/\1/p' "$work/score")
[ -n "$exposure" ] || fail "no exposure score"
awk -v e="$exposure" -v max="$max_exposure" 'BEGIN { exit !(e + 0 <= max + 0) }' \
  || fail "the unit's exposure is $exposure, above the limit of $max_exposure"

# A throwaway root: the package's files plus the shared libraries the binary needs.
for lib in $(ldd "$root/usr/bin/noticed" | grep -oE '/[^ ]+'); do
  mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
done
version=$(chroot "$root" /usr/bin/noticed --version)
[[ "$version" == noticed\ * ]] || fail "unexpected version output: $version"
chroot "$root" /usr/bin/noticed policy check /etc/noticed/policy.toml
echo "== $version runs in a throwaway root and accepts its installed policy"
