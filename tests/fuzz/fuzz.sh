#!/bin/sh
# Runs the libFuzzer targets built in DIR/fuzz, from the top of the tree.
#   fuzz.sh run DIR SECONDS TARGET...  each target for SECONDS on a copy of
#       its corpus in DIR/corpus/TARGET, where new finds stay; a crash is
#       saved in DIR/crashes/TARGET/ and fails the run, after every target.
#   fuzz.sh merge DIR TARGET...        adds to tests/fuzz/corpus/TARGET the
#       inputs of DIR/corpus/TARGET that reach new coverage.
set -u
mode=$1 dir=$2
shift 2
[ "$mode" = run ] && { seconds=$1; shift; }
export OPENBLAS_NUM_THREADS=1 UBSAN_OPTIONS=print_stacktrace=1
failed=

for t; do
	# A huge allocation or a slow input counts as a finding: the loaders
	# check sizes before they allocate, and the largest network fin builds
	# (2^24 parameters) fits with its gradients and moments.
	limits="-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10"
	seeds=tests/fuzz/corpus/$t corpus=$dir/corpus/$t
	if [ "$mode" = merge ]; then
		"$dir/fuzz/$t" -merge=1 $limits "$seeds" "$corpus" || failed="$failed $t"
		continue
	fi
	crashes=$dir/crashes/$t log=$dir/logs/$t.log
	mkdir -p "$corpus" "$crashes" "$dir/logs"
	cp "$seeds"/* "$corpus"/
	echo "== $t: $seconds s (log in $log)"
	"$dir/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 $limits \
		-dict="tests/fuzz/$t.dict" -artifact_prefix="$crashes/" "$corpus" > "$log" 2>&1
	status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | grep -oE '(cov|ft|corp): [^ ]+' | tr '\n' ' ')
	echo "   ${runs:-?} runs (${speed:-?}/s), ${cov:-no coverage line}"
	if [ $status -ne 0 ]; then
		failed="$failed $t"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: |.*runtime error)' "$log" | head -n 3 |
			sed 's/^/   /'
		grep -E "^ +#[0-9]+ .* $PWD/(lib|cmd|tests)/" "$log" | head -n 6 |
			sed "s| $PWD/| |"
		sed -n 's/.*Test unit written to /   crash saved: /p' "$log"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz.sh $mode failed:$failed" >&2
	exit 1
fi
