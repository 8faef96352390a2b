#!/usr/bin/env bash
# Installs the real services the tests run, reusing whatever is already there:
#   - nginx, redis-server, PostgreSQL server and PgBouncer from Debian packages;
#   - consul (v1.14.11, the last MPL release that builds from the Go module
#     proxy) built from the tools/consul module into .tools/bin;
#   - consul-template v0.41.1 into .tools/bin;
#   - nomad v1.6.1 (MPL-2.0) unpacked from ../shared/nomad into .tools/bin,
#     checked against its SHA256SUMS.
# A cold run takes about 6 minutes on 2 cores plus apt-get (Consul's build is most of it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.tools/bin"
mkdir -p "$bin"

have() { command -v "$1" >/dev/null 2>&1; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

pkgs=()
have nginx || [ -x /usr/sbin/nginx ] || pkgs+=(nginx-light)
have redis-server || pkgs+=(redis-server)
[ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] || pkgs+=(postgresql)
have pgbouncer || [ -x /usr/sbin/pgbouncer ] || pkgs+=(pgbouncer)
if [ ${#pkgs[@]} -gt 0 ]; then
	echo "tools: apt-get install ${pkgs[*]}"
	sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
	# The packages start system services where they can; the tests never use them.
fi

if [ ! -x "$bin/consul-template" ]; then
	echo "tools: building consul-template v0.41.1 (about 1 minute)"
	GOBIN="$bin" go install github.com/hashicorp/consul-template@v0.41.1
fi

if [ ! -x "$bin/consul" ]; then
	echo "tools: building consul v1.14.11 (about 5 minutes on 2 cores, once)"
	(cd "$root/tools/consul" && go build -o "$bin/consul" github.com/hashicorp/consul)
fi
if [ ! -x "$bin/nomad" ]; then
	src="$root/../shared/nomad"
	if [ -f "$src/nomad-1.6.1-linux-amd64.gz" ]; then
		echo "tools: installing nomad v1.6.1 from $src"
		gunzip -c "$src/nomad-1.6.1-linux-amd64.gz" > "$bin/nomad.tmp"
		want=$(awk '$2 ~ /(^|\/|\*)nomad$/ {print $1}' "$src/SHA256SUMS" | head -n 1)
		got=$(sha256sum "$bin/nomad.tmp" | awk '{print $1}')
		if [ -z "$want" ] || [ "$want" != "$got" ]; then
			rm -f "$bin/nomad.tmp"
			echo "tools: nomad checksum mismatch (want '$want', got '$got')" >&2
			exit 1
		fi
		chmod +x "$bin/nomad.tmp" && mv "$bin/nomad.tmp" "$bin/nomad"
	elif have nomad; then
		echo "tools: using $(command -v nomad) ($(nomad version | head -n 1))"
	else
		echo "tools: no nomad: put Nomad 1.6.1 (MPL-2.0) at ../shared/nomad or a nomad binary on PATH" >&2
		[ "${CI:-}" = true ] && exit 1
	fi
fi
echo "tools: ready in $bin"
