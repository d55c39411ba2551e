#!/usr/bin/env bash
# Gate throughput with a shared ledger (issue 14; docs/performance.md):
#   scripts/ledger-bench.sh sqlite   # 10M-send SQLite ledger, 1 process
#   scripts/ledger-bench.sh postgres # 10M-send PostgreSQL ledger on loopback,
#                                    # 1, 2, 4 and 8 processes at once
# Builds the release binary, makes the data in a temporary directory (the
# SQLite ledger with `scruple ledger import` of a generated CSV file,
# PostgreSQL with generate_series in a
# throwaway server started with initdb + pg_ctl), and prints records/s.
# RECIPIENTS (default 200000) records per process; LEDGER_RECIPIENTS (default
# 2000000) recipients in the ledger, 5 email sends each; SCRUPLE_BIN a
# binary to use instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-sqlite}
n=${RECIPIENTS:-200000}
ledger_n=${LEDGER_RECIPIENTS:-2000000}
at=2026-11-23T10:00:00Z
at_s=1795428000

# SCRUPLE_BIN: a binary to use instead of building one.
bin=${SCRUPLE_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release --locked -q
    bin=${CARGO_TARGET_DIR:-target}/release/scruple
fi
campaign=examples/campaigns/spring-sale.yaml
work=$(mktemp -d /tmp/scruple-ledger-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Half the recipients have 5 sends in the 7 days before the slot (the cap
# of 3 suppresses them), half 5 older ones.
python3 - "$work/recipients.jsonl" "$n" "$ledger_n" <<'EOF'
import sys
path, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as f:
    for j in range(n):
        i = (j * 7919) % m
        f.write('{"id":"r-%07d","jurisdiction":"EU-FR","timezone":"Europe/Paris","age":34,'
                '"consents":{"email_marketing":{"granted_at":"2026-06-01T09:00:00Z","source":"double_opt_in"}}}\n' % i)
EOF

rate() { # rate SECONDS RECORDS
    python3 -c "import sys; print(f'{int(sys.argv[2])/float(sys.argv[1]):,.0f} records/s')" "$1" "$2"
}

timed() { # timed COMMAND… → seconds
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.3f}')"
}

if [ "$which" = sqlite ]; then
    # The ledger is made the way a user makes one: `ledger import` of a CSV
    # file of past sends (one transaction).
    python3 - "$work/sends.csv" "$ledger_n" "$at_s" <<'EOF'
import sys
path, m, at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w", buffering=1 << 20) as f:
    f.write("campaign,slot,recipient,channel,sent_at\n")
    for k in range(5):
        f.write("".join(
            f"past-{k},{t},r-{i:07d},email,{t}\n"
            for i in range(m)
            for t in [at - (k + 1) * 86400 if i % 2 else at - (10 + k * 6) * 86400]))
EOF
    "$bin" --no-config ledger import "$work/sends.csv" --ledger "$work/ledger.db" >/dev/null
    rm "$work/sends.csv"
    for mode in --no-reserve "" --record; do
        s=$(timed "$bin" --no-config gate "$campaign" --recipients "$work/recipients.jsonl" \
            --at "$at" --ledger "$work/ledger.db" $mode)
        echo "sqlite ${mode:-reserve}: $n records in $s s: $(rate "$s" "$n")"
        # A new slot each time, so that every run writes.
        at=2026-11-23T1$((${#mode} % 10)):00:00Z
    done
    exit 0
fi

pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as=()
if [ "$(id -u)" = 0 ]; then as=(runuser -u postgres --); chown postgres "$work"; fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as[@]}" "$pgbin/initdb" -D "$work/data" -U scruple -A trust --no-sync -E UTF8 --locale=C >/dev/null
"${as[@]}" "$pgbin/pg_ctl" start -w -D "$work/data" -l "$work/log" \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $work -c max_connections=200 -c shared_buffers=256MB" >/dev/null
trap '"${as[@]}" "$pgbin/pg_ctl" stop -D "$work/data" -m immediate >/dev/null; rm -rf "$work"' EXIT
url=postgres://scruple@127.0.0.1:$port/postgres
"$bin" --no-config ledger export --ledger "$url" >/dev/null
"$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U scruple -d postgres -c "
INSERT INTO scruple_sends (campaign, slot, recipient, channel, sent_at)
SELECT 'past-' || k, t, 'r-' || lpad(i::text, 7, '0'), 'email', t FROM (
  SELECT k, i, CASE WHEN i % 2 = 1 THEN $at_s - (k+1)*86400 ELSE $at_s - (10 + k*6)*86400 END AS t
  FROM generate_series(0,4) k, generate_series(0,$ledger_n - 1) i) s"
"$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U scruple -d postgres -c "VACUUM ANALYZE scruple_sends"
slot=0
for procs in 1 2 4 8; do
    start=$(date +%s.%N)
    pids=()
    for p in $(seq 1 "$procs"); do
        slot=$((slot + 1))
        "$bin" --no-config gate "$campaign" --recipients "$work/recipients.jsonl" \
            --at "2026-11-23T10:$(printf %02d $slot):00Z" --ledger "$url" --record >/dev/null 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    end=$(date +%s.%N)
    s=$(python3 -c "print(f'{$end - $start:.3f}')")
    echo "postgres, $procs process(es) recording the same $n recipients: $s s, $(rate "$s" $((n * procs))) in all"
done
