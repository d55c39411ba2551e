#!/usr/bin/env bash
# Load test of `scruple serve` with a PostgreSQL ledger (issue 14, speed;
# figures in docs/performance.md):
#
#   benches/serve_load.sh
#
# Starts a throwaway PostgreSQL (initdb + pg_ctl of Debian's `postgresql`
# package, in a temporary directory, on a free loopback port), fills it with
# LEDGER_RECIPIENTS (default 2,000,000) recipients × 5 email sends (half of
# them 5 in the week before the slot, so spring-sale's cap of 3 suppresses
# them), starts the release binary's `serve` on it, and runs `oha` (installed
# with `cargo install --locked` into OHA_ROOT, default
# $CARGO_TARGET_DIR/tools, when it is not on PATH) for DURATION (default
# 10s) per point: gate requests of 1 and of 1,000 recipients, reserving
# (the default), at 1, 8 and 32 concurrent clients. Each request body is a
# line of a file of distinct batches (`oha -Z` picks one per request), so
# clients decide different recipients as real senders mostly do, and
# sometimes the same ones (then they wait for each other's locks).
# Prints requests/s, recipients/s and p50/p99 latency per point.
#
# SCRUPLE_BIN: a binary to use instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
ledger_n=${LEDGER_RECIPIENTS:-2000000}
duration=${DURATION:-10s}
target=${CARGO_TARGET_DIR:-target}
at=2026-11-23T10:00:00Z
at_s=1795428000

bin=${SCRUPLE_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release --locked -q
    bin=$target/release/scruple
fi

oha=$(command -v oha || true)
if [ -z "$oha" ]; then
    root=${OHA_ROOT:-$target/tools}
    if [ ! -x "$root/bin/oha" ]; then
        echo "installing oha into $root (cargo install --locked; a few minutes)" >&2
        # native-tls: the default rustls build needs cmake, which these
        # machines lack; TLS is not used here anyway.
        cargo install oha --locked --no-default-features --features native-tls \
            --root "$root" -q
    fi
    oha=$root/bin/oha
fi

work=$(mktemp -d /tmp/scruple-serve-load.XXXXXX)
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as=()
if [ "$(id -u)" = 0 ]; then as=(runuser -u postgres --); chown postgres "$work"; fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
serve_pid=
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
    "${as[@]}" "$pgbin/pg_ctl" stop -D "$work/data" -m immediate >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
"${as[@]}" "$pgbin/initdb" -D "$work/data" -U scruple -A trust --no-sync -E UTF8 --locale=C >/dev/null
"${as[@]}" "$pgbin/pg_ctl" start -w -D "$work/data" -l "$work/log" \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $work -c max_connections=200 -c shared_buffers=256MB" >/dev/null
url=postgres://scruple@127.0.0.1:$port/postgres
"$bin" --no-config ledger export --ledger "$url" >/dev/null
echo "loading $((ledger_n * 5)) sends" >&2
"$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U scruple -d postgres -c "
INSERT INTO scruple_sends (campaign, slot, recipient, channel, sent_at)
SELECT 'past-' || k, t, 'r-' || lpad(i::text, 7, '0'), 'email', t FROM (
  SELECT k, i, CASE WHEN i % 2 = 1 THEN $at_s - (k+1)*86400 ELSE $at_s - (10 + k*6)*86400 END AS t
  FROM generate_series(0,4) k, generate_series(0,$ledger_n - 1) i) s"
"$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U scruple -d postgres -c "VACUUM ANALYZE scruple_sends"

# Request bodies, one per line: 20,000 single recipients, 200 batches of
# 1,000 (distinct recipients spread over the ledger).
python3 - "$work" "$ledger_n" "$at" <<'EOF'
import json, sys
work, m, at = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def rec(i):
    return {"id": "r-%07d" % i, "jurisdiction": "EU-FR", "timezone": "Europe/Paris", "age": 34,
            "consents": {"email_marketing": {"granted_at": "2026-06-01T09:00:00Z",
                                             "source": "double_opt_in"}}}
def body(ids):
    return json.dumps({"campaign": "spring-sale.yaml", "at": at,
                       "recipients": [rec(i) for i in ids]}, separators=(",", ":"))
with open(f"{work}/one.jsonl", "w") as f:
    for j in range(20000):
        f.write(body([(j * 7919) % m]) + "\n")
with open(f"{work}/thousand.jsonl", "w") as f:
    for b in range(200):
        f.write(body([((b * 1000 + k) * 7919) % m for k in range(1000)]) + "\n")
EOF

sport=$(free_port)
"$bin" --no-config serve --bind "127.0.0.1:$sport" --ledger "$url" \
    --campaigns examples/campaigns --max-body 8388608 >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$sport/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

printf '%-12s %8s %10s %12s %9s %9s %s\n' request clients "req/s" "recipients/s" "p50 ms" "p99 ms" "status"
for size in one thousand; do
    per=1; [ "$size" = thousand ] && per=1000
    for clients in 1 8 32; do
        "$oha" --no-tui --output-format json -z "$duration" -c "$clients" -m POST \
            -H 'Content-Type: application/json' -Z "$work/$size.jsonl" \
            "http://127.0.0.1:$sport/v1/gate" >"$work/oha.json"
        python3 - "$work/oha.json" "$size" "$clients" "$per" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
s, p = r["summary"], r["latencyPercentiles"]
rps = s["requestsPerSec"]
codes = ",".join(f"{k}:{v}" for k, v in sorted(r.get("statusCodeDistribution", {}).items()))
print(f"{sys.argv[2]:<12} {sys.argv[3]:>8} {rps:>10,.1f} {rps * int(sys.argv[4]):>12,.0f} "
      f"{p['p50'] * 1000:>9.2f} {p['p99'] * 1000:>9.2f} {codes}")
EOF
    done
done
