#!/usr/bin/env bash
# Runs one fuzz target for a while: scripts/fuzz.sh TARGET SECONDS [LIBFUZZER ARGS…]
# Targets: policy, campaign, gate_record, serve_body, tcf, gpp (see fuzz/README.md).
# Seeds the target's corpus from tests/fixtures and examples first (the
# corpus is not committed), installs cargo-fuzz if absent, needs nightly.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
    echo "usage: scripts/fuzz.sh TARGET SECONDS [LIBFUZZER ARGS…]" >&2
    echo "targets: policy campaign gate_record serve_body tcf gpp" >&2
    exit 2
fi
target=$1
seconds=$2
shift 2

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

corpus=fuzz/corpus/$target
mkdir -p "$corpus"

# One seed file per input; named by content so re-seeding adds nothing twice.
seed() {
    local file
    file=$(mktemp)
    cat >"$file"
    mv "$file" "$corpus/seed-$(sha1sum "$file" | cut -c1-16)"
}

case $target in
policy)
    find tests/fixtures policies -name '*.scruple' -print0 |
        while IFS= read -r -d '' f; do seed <"$f"; done
    ;;
campaign)
    find tests/fixtures examples -name '*.yaml' ! -name '*.tests.yaml' -print0 |
        while IFS= read -r -d '' f; do seed <"$f"; done
    ;;
gate_record)
    # First byte: bit 0 the campaign, bit 1 CSV (see the target).
    for campaign in 0 1; do
        while IFS= read -r line; do
            { printf "\\x0$campaign"; printf '%s\n' "$line"; } | seed
        done <tests/fixtures/gate/recipients.jsonl
        { printf "\\x0$((campaign + 2))"; cat tests/fixtures/gate/recipients.csv; } | seed
    done
    ;;
serve_body)
    # First byte: the route (see ROUTES in the target); 0 is /v1/check, 1 /v1/gate.
    find tests/fixtures/campaigns examples -name '*.yaml' -print0 |
        while IFS= read -r -d '' f; do { printf '\x00'; cat "$f"; } | seed; done
    records=$(paste -sd, tests/fixtures/gate/recipients.jsonl)
    campaign=$(sed 's/\\/\\\\/g; s/"/\\"/g' tests/fixtures/gate/gpc-honoured.yaml | awk '{printf "%s\\n", $0}')
    printf '\x01{"campaign_text":"%s","at":"2026-11-23T10:00:00Z","recipients":[%s]}' \
        "$campaign" "$records" | seed
    for route in 2 3 4 5 6; do printf "\\x0$route" | seed; done
    ;;
tcf)
    # TC strings made by the reference encoder (tests/reference/tcf.mjs).
    while IFS= read -r line; do printf '%s' "$line" | seed; done \
        <tests/fixtures/tcf/reference-strings.txt
    ;;
gpp)
    # The official vectors and strings made by the reference encoder
    # (tests/reference/gpp.mjs); `#` lines are their sources.
    grep -hv '^#' tests/fixtures/gpp/official-vectors.txt tests/fixtures/gpp/reference-strings.txt |
        while IFS= read -r line; do printf '%s' "$line" | seed; done
    ;;
*)
    echo "unknown target \`$target\`; targets: policy campaign gate_record serve_body tcf gpp" >&2
    exit 2
    ;;
esac

# -max_len past 65,536: long lines are where diagnostics used to break.
# The text targets start at full length (-len_control=0): libFuzzer would
# otherwise grow inputs slowly and never pass 65,536 in a short run.
length=()
case $target in policy | campaign) length=(-len_control=0) ;; esac

# -timeout: an input that takes 30 s is a finding (quadratic work), not noise.
exec cargo +nightly fuzz run --fuzz-dir fuzz "$target" "$corpus" -- \
    -max_total_time="$seconds" -max_len=262144 "${length[@]}" -timeout=30 "$@"
