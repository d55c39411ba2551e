#!/usr/bin/env sh
# Renders a `scruple report` HTML file with headless Chromium: a PNG
# screenshot (1280x2000) and an A4 PDF, to check how the report looks on
# screen and in print. Installs nothing: uses $CHROMIUM, else
# /usr/bin/chromium, else chromium or chromium-browser on the PATH.
#
#   scripts/report-screenshot.sh report.html [OUTDIR]
#
# Writes OUTDIR/report.png and OUTDIR/report.pdf (OUTDIR defaults to the
# report's directory). Exit codes: 0 rendered, 1 rendering failed, 2 usage
# error, 3 no Chromium found. With pdftoppm (poppler-utils) installed, also
# writes OUTDIR/report-page-1.png, … from the PDF.
set -eu

usage() {
    echo "usage: $0 REPORT.html [OUTDIR]" >&2
    exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
report=$1
[ -f "$report" ] || { echo "error: $report does not exist" >&2; exit 2; }
outdir=${2:-$(dirname "$report")}
mkdir -p "$outdir"

chromium=${CHROMIUM:-}
if [ -z "$chromium" ]; then
    for candidate in /usr/bin/chromium chromium chromium-browser; do
        if command -v "$candidate" >/dev/null 2>&1; then
            chromium=$(command -v "$candidate")
            break
        fi
    done
fi
if [ -z "$chromium" ]; then
    echo "note: no Chromium found (set CHROMIUM, or apt-get install chromium); nothing rendered" >&2
    exit 3
fi

abs_report=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
abs_outdir=$(cd "$outdir" && pwd)
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

# Offline, no first-run or background work, a throwaway profile.
set -- --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run \
    --disable-default-apps --hide-scrollbars --user-data-dir="$profile"

"$chromium" "$@" --window-size=1280,2000 \
    --screenshot="$abs_outdir/report.png" "file://$abs_report" >/dev/null 2>&1 || true
"$chromium" "$@" --no-pdf-header-footer \
    --print-to-pdf="$abs_outdir/report.pdf" "file://$abs_report" >/dev/null 2>&1 || true

status=0
for f in report.png report.pdf; do
    if [ -s "$abs_outdir/$f" ]; then
        echo "wrote $abs_outdir/$f"
    else
        echo "error: Chromium did not write $abs_outdir/$f" >&2
        status=1
    fi
done
if [ $status -eq 0 ] && command -v pdftoppm >/dev/null 2>&1; then
    pdftoppm -png -r 80 "$abs_outdir/report.pdf" "$abs_outdir/report-page"
    echo "wrote $abs_outdir/report-page-*.png"
fi
exit $status
