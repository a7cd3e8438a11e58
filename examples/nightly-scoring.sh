#!/bin/sh
# nightly-scoring.sh: screen the day's rows (loan applications, card
# transactions) with an anomaly detector, from cron.
#
# Usage: nightly-scoring.sh [DAY_FILE]
#
#   # m h dom mon dow  command
#   30 2 * * *  WORK_DIR=/var/lib/fin-screening KEYS=id /usr/local/bin/nightly-scoring.sh 2>>/var/log/fin-screening.log
#
# Fits the detector on HISTORY when DETECTOR is missing or older than HISTORY,
# else loads it; scores DAY_FILE with fin-anomaly score --fail-on-anomaly into
# SCORES (replaced only by a complete file); then acts on the exit status,
# which is fin-anomaly's (fin(7)) and the script's own:
#
#   0    nothing flagged: a line in the log.
#   5    rows flagged: ALERT_COMMAND gets the flagged rows on its standard input
#        (should it fail, FAILURE_COMMAND gets the alert).
#   1-4  the run failed (1 data error, 2 usage error or a file that cannot be
#        read, 3 unusable detector, 4 no rows): FAILURE_COMMAND gets the tool's
#        messages; so it does for any other failure, with that status.
#   75   another run still holds the lock: FAILURE_COMMAND is told, nothing is
#        scored.
#
# Log lines and the tools' messages go to standard error.
#
# Environment, with the defaults:
#   FIN              the fin tools' directory          /usr/local/bin
#   WORK_DIR         detector, scores and lock          /var/lib/fin-screening
#   HISTORY          rows the detector is fitted on     $WORK_DIR/history.csv
#   DETECTOR         the detector file                  $WORK_DIR/detector.json
#   DAY              the day's name                     today, as 2024-01-31
#   DAY_FILE         the rows to score (or argument 1)  $WORK_DIR/incoming/$DAY.csv
#   SCORES           the scores written                 $WORK_DIR/scores/$DAY.csv
#   METHOD           fin-anomaly --method               iforest
#   CONTAMINATION    share of HISTORY flagged           0.01
#   FEATURES         feature columns (-c)               empty: every numeric column
#   KEYS             key columns passed through (-k)    empty: none
#   ALERT_COMMAND    shell command, message on stdin    mail -s "fin: anomalies on $DAY" risk
#   FAILURE_COMMAND  shell command, message on stdin    mail -s "fin: nightly scoring failed on $DAY" root
#   LOCK_FILE        the flock(1) lock                  $WORK_DIR/nightly-scoring.lock
#
# The commands run with DAY, DAY_FILE, SCORES and DETECTOR in their
# environment. examples/README.md shows a run on the sample data.
set -eu

FIN=${FIN:-/usr/local/bin}
WORK_DIR=${WORK_DIR:-/var/lib/fin-screening}
HISTORY=${HISTORY:-$WORK_DIR/history.csv}
DETECTOR=${DETECTOR:-$WORK_DIR/detector.json}
DAY=${DAY:-$(date +%Y-%m-%d)}
DAY_FILE=${1:-${DAY_FILE:-$WORK_DIR/incoming/$DAY.csv}}
SCORES=${SCORES:-$WORK_DIR/scores/$DAY.csv}
METHOD=${METHOD:-iforest}
CONTAMINATION=${CONTAMINATION:-0.01}
FEATURES=${FEATURES:-}
KEYS=${KEYS:-}
# In single quotes: $DAY is expanded when the command runs.
# shellcheck disable=SC2016
ALERT_COMMAND=${ALERT_COMMAND:-'mail -s "fin: anomalies on $DAY" risk'}
# shellcheck disable=SC2016
FAILURE_COMMAND=${FAILURE_COMMAND:-'mail -s "fin: nightly scoring failed on $DAY" root'}
LOCK_FILE=${LOCK_FILE:-$WORK_DIR/nightly-scoring.lock}
export DAY DAY_FILE SCORES DETECTOR

log() {
    printf '%s nightly-scoring: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
}

# The failure mail's first line; the tool's messages, if any, follow it.
failure="nightly-scoring.sh did not finish scoring $DAY_FILE"
tmp=

# Every way out but 0 and 5 ends here: the failure command is told.
on_exit() {
    status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then
        log "$failure (exit status $status)"
        if ! { printf '%s (exit status %s)\n' "$failure" "$status"
               if [ -s "$tmp/messages" ]; then printf '\n'; cat "$tmp/messages"; fi
             } | sh -c "$FAILURE_COMMAND"; then
            log "the failure command failed: $FAILURE_COMMAND"
        fi
    fi
    [ -z "$tmp" ] || rm -rf "$tmp"
}
trap on_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

meaning() {
    case $1 in
    1) echo 'data error' ;;
    2) echo 'usage error, or a file that cannot be read' ;;
    3) echo 'unusable detector file' ;;
    4) echo 'no input rows' ;;
    *) echo 'did not finish' ;;
    esac
}

# run STEP COMMAND...: runs a tool, its messages kept for the failure mail and
# copied to the log; a failure ends the script with the tool's status.
run() {
    step=$1
    shift
    status=0
    "$@" 2>"$tmp/messages" || status=$?
    cat "$tmp/messages" >&2
    if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then
        failure="$step failed: $(meaning "$status")"
        exit "$status"
    fi
    return "$status"
}

mkdir -p "$WORK_DIR" "$(dirname "$SCORES")"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nightly-scoring.XXXXXX")

exec 9>>"$LOCK_FILE"
if ! flock -n 9; then
    failure="another run still holds $LOCK_FILE: $DAY_FILE not scored"
    exit 75
fi

if [ ! -e "$DETECTOR" ] || [ -n "$(find "$HISTORY" -prune -newer "$DETECTOR" 2>/dev/null)" ]; then
    log "fitting $DETECTOR on $HISTORY"
    run "fin-anomaly fit on $HISTORY" "$FIN/fin-anomaly" fit --method "$METHOD" \
        --contamination "$CONTAMINATION" ${FEATURES:+-c "$FEATURES"} ${KEYS:+-k "$KEYS"} \
        -o "$DETECTOR" "$HISTORY"
fi

log "scoring $DAY_FILE with $DETECTOR"
status=0
run "fin-anomaly score on $DAY_FILE" "$FIN/fin-anomaly" score -m "$DETECTOR" \
    --fail-on-anomaly -o "$SCORES" "$DAY_FILE" || status=$?
rows=$(awk 'END { print NR - 1 }' "$SCORES")
if [ "$status" -eq 0 ]; then
    log "$rows rows scored, none flagged: $SCORES"
    exit 0
fi

# Status 5: the scores are complete and some rows are flagged (anomaly, the
# last column, is 1).
awk -F, 'NR == 1 || $NF == 1' "$SCORES" > "$tmp/flagged"
flagged=$(awk 'END { print NR - 1 }' "$tmp/flagged")
log "$flagged of $rows rows flagged: $SCORES"
{
    printf '%s of %s rows of %s were flagged by %s.\n' "$flagged" "$rows" "$DAY_FILE" "$DETECTOR"
    printf 'All the scores: %s\n\nThe flagged rows:\n' "$SCORES"
    cat "$tmp/flagged"
} > "$tmp/alert"
if ! sh -c "$ALERT_COMMAND" < "$tmp/alert"; then
    log "the alert command failed: $ALERT_COMMAND"
    {
        printf 'The alert command failed: %s\nIts message:\n\n' "$ALERT_COMMAND"
        cat "$tmp/alert"
    } | sh -c "$FAILURE_COMMAND" || log "the failure command failed: $FAILURE_COMMAND"
fi
exit 5
