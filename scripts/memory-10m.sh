#!/usr/bin/env bash
# Peak memory and wall time of `scruple gate` against the number of streamed
# recipients (issue 6: "peak memory flat in the number of streamed
# recipients, 10 million recipients under 50 MB").
#
# Recipients are generated on the fly by a small Python generator and piped
# into `scruple gate --recipients -`; the 10-million stream is never written
# to disk. Decisions go to /dev/null. /usr/bin/time -v measures the scruple
# process alone (the right-hand side of the pipe).
#
# Runs:
#   allowed   100,000 / 1,000,000 / 10,000,000 recipients, all allowed
#   half      10,000,000 recipients, half suppressed (a quarter with
#             withdrawn consent, a quarter unsubscribed): reasons written
#   file      1,000,000 recipients (allowed, then half) read from a file in
#             $TMPDIR, generated beforehand: scruple's own rate, without the
#             generator in the pipe (the file is removed afterwards)
#
# Usage: scripts/memory-10m.sh            (from anywhere in the checkout)
#        nice -n 10 scripts/memory-10m.sh (on a shared machine)
# Env:   SIZES="100000 1000000 10000000" HALF=10000000 FILE=1000000
#        (HALF= or FILE= empty skips that run)
set -euo pipefail

cd "$(dirname "$0")/.."

SIZES=${SIZES-"100000 1000000 10000000"}
HALF=${HALF-10000000}
FILE=${FILE-1000000}
BIN=target/release/scruple
CAMPAIGN=examples/campaigns/spring-sale.yaml
# Mon 2026-11-23, 11:00 in Paris: outside quiet hours, consent is current.
AT=2026-11-23T10:00:00Z

command -v python3 >/dev/null || { echo "python3 is needed for the generator" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time (GNU time) is needed" >&2; exit 2; }

cargo build --release --quiet

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scruple-memory.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# N MODE: N recipient records as JSON Lines on stdout. MODE `allowed`: every
# recipient may receive spring-sale; `half`: record i is withdrawn (i%4==0),
# unsubscribed (i%4==1) or allowed.
cat >"$WORK/gen.py" <<'EOF'
import sys
n, mode = int(sys.argv[1]), sys.argv[2]
head = '{"id":"r-'
common = '","jurisdiction":"EU-FR","timezone":"Europe/Paris","age":34,"consents":{"email_marketing":{"granted_at":"2026-06-01T09:00:00Z","source":"double_opt_in"'
allowed = common + '}},"opt_outs":{"unsubscribed":false},"attributes":{"purchase_count":3}}\n'
withdrawn = common + ',"withdrawn_at":"2026-11-01T00:00:00Z"}},"opt_outs":{"unsubscribed":false},"attributes":{"purchase_count":3}}\n'
unsubscribed = common + '}},"opt_outs":{"unsubscribed":true},"attributes":{"purchase_count":3}}\n'
tails = [allowed] * 4 if mode == "allowed" else [withdrawn, unsubscribed, allowed, allowed]
out = sys.stdout.write
chunk = 10000
for start in range(0, n, chunk):
    out("".join([head + str(i) + tails[i & 3] for i in range(start, min(n, start + chunk))]))
EOF

gate() {
    # No ledger (a path that does not exist is never created just to read),
    # no scruple.toml; policies from ./policies (the shipped packs).
    /usr/bin/time -v -o "$WORK/time.txt" "$BIN" gate "$CAMPAIGN" --at "$AT" \
        --no-config --ledger "$WORK/no-ledger.db" --recipients "$1" \
        >/dev/null 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt" >&2; return 1; }
}

# Prints one table row from the last run; checks the gate's own summary.
row() { # SOURCE N MODE
    local source=$1 n=$2 mode=$3
    local summary rss_kb wall user sys nread allowed suppressed bad
    summary=$(grep '^gate:' "$WORK/stderr.txt" || true)
    read -r nread allowed suppressed bad < <(
        sed -E 's/^gate: ([0-9]+) read, ([0-9]+) allowed, ([0-9]+) suppressed, ([0-9]+) bad$/\1 \2 \3 \4/' <<<"$summary"
    )
    if [ "${nread:-}" != "$n" ] || [ "${bad:-}" != 0 ]; then
        echo "unexpected gate summary for $n $mode: '$summary'" >&2
        cat "$WORK/stderr.txt" >&2
        exit 1
    fi
    rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.txt")
    user=$(sed -n 's/.*User time (seconds): //p' "$WORK/time.txt")
    sys=$(sed -n 's/.*System time (seconds): //p' "$WORK/time.txt")
    local seconds cpu rate cpu_rate
    seconds=$(awk -v w="$wall" 'BEGIN { n = split(w, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }')
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
    rate=$(awk -v n="$n" -v s="$seconds" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
    cpu_rate=$(awk -v n="$n" -v s="$cpu" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
    printf '| %s | %s | %s | %s / %s | %.1f MiB | %s s | %s s | %s/s | %s/s |\n' \
        "$source" "$n" "$mode" "$allowed" "$suppressed" "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')" \
        "$seconds" "$cpu" "$rate" "$cpu_rate"
}

echo "scruple $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet -- src 2>/dev/null || echo ' (src modified)'), $(uname -m), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo '| input | recipients | mix | allowed / suppressed | peak RSS | wall | CPU (user+sys) | recipients/s (wall) | recipients/s (CPU) |'
echo '|---|---:|---|---:|---:|---:|---:|---:|---:|'
for n in $SIZES; do
    python3 "$WORK/gen.py" "$n" allowed | gate -
    row pipe "$n" allowed
done
if [ -n "$HALF" ]; then
    python3 "$WORK/gen.py" "$HALF" half | gate -
    row pipe "$HALF" half
fi
if [ -n "$FILE" ]; then
    for mode in allowed half; do
        python3 "$WORK/gen.py" "$FILE" "$mode" >"$WORK/recipients.jsonl"
        gate "$WORK/recipients.jsonl"
        row file "$FILE" "$mode"
        rm -f "$WORK/recipients.jsonl"
    done
fi
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
