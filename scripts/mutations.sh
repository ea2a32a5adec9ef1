#!/usr/bin/env bash
# "make test-mutations": prove that the tests fail when the behaviour they
# name breaks, with the assertion they name.  For each line of
# tests/mutations.list (format in its header), change the patched tree's
# working copy, rebuild, run the named test, and restore the file.  A
# mutation is caught only if the test fails and its output holds the
# line's text (a kernel splat fails the run too: its line is part of the
# output); a timeout is never caught, nor is a line whose text is
# TODO (no assertion named yet: the line still runs, and says which
# assertion fired).  KTAP out; the tree must have no uncommitted changes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

list=${1:-$TOP/tests/mutations.list}
"$TOP/scripts/tree.sh"
cd "$TREE"
git diff --quiet HEAD -- arch virt include ||
	die "uncommitted kernel changes in $TREE; commit or stash them first"
restore() { git -C "$TREE" checkout -q -- arch virt include; }
trap restore EXIT

res=$BUILD/results/mutation
# The output of the test of the last run: the lines of it that
# guest/run-tests kept in the KTAP ("# " lines: a failing test's last 40
# lines and its assertion lines), then all of it from the console ("  | "
# lines; the mutation list holds that one test).
test_output() {
	grep '^# ' "$res/vm.ktap" 2>/dev/null | grep -vE '^# (kernel|rig): ' | cut -c3- || true
	tr -d '\r' 2>/dev/null <"$res/console.log" | sed -n 's/^  | //p' || true
	splat_line
}
# The splat check's failure (scripts/test.sh): the kernel's first splat,
# e.g. a WARN that only the broken kernel hits while its test passes.
splat_line() {
	grep -E '^not ok - kernel: ' "$res/all.ktap" 2>/dev/null || true
}
# The first assertion that fired, from test_output on stdin: the
# "file:line: expr" and the message of a selftest's "Test Assertion
# Failure", else the first line that names an assertion or a failure.
first_assertion() {
	awk '
		/==== Test Assertion Failure ====/ { a = 1; next }
		a == 1 { loc = $0; a = 2; next }
		a == 2 && (/^ *pid=/ || /addr2line|stack trace empty/ || /^ *[0-9]+\t/) { next }
		a == 2 { msg = $0; exit }
		!a && !other && /[Aa]ssert|FAIL|timed out/ { other = $0 }
		END {
			if (loc != "") s = loc (msg != "" ? " / " msg : "")
			else if (other != "") s = other
			else s = "no assertion line in the output"
			gsub(/^ +| +$/, "", s); gsub(/  +/, " ", s)
			print substr(s, 1, 200)
		}'
}

mapfile -t lines < <(grep -v '^[[:space:]]*\(#\|$\)' "$list")
"$TOP/scripts/build-selftests.sh" >/dev/null
"$TOP/scripts/build-qemu.sh" >/dev/null
echo "KTAP version 1"
echo "1..${#lines[@]}"
all_start=$SECONDS
n=0 bad=0
for line in "${lines[@]}"; do
	n=$((n + 1))
	start=$SECONDS
	IFS='|' read -r file expr test text <<<"$line"
	what="$file: $expr"
	if [ -z "$test" ] || [ -z "$text" ]; then
		echo "not ok $n ${test:-?} # malformed line (want <file>|<sed expr>|<test>|<text>): $line"
		bad=$((bad + 1)); continue
	fi
	restore
	before=$(sha1sum "$file")
	sed -i "$expr" "$file"
	if [ "$(sha1sum "$file")" = "$before" ]; then
		echo "not ok $n $test # mutation did not apply to $what"; bad=$((bad + 1)); continue
	fi
	# A line may give its test a longer timeout (timeout=S among its words).
	case " $test " in
	*" timeout="*) echo "$test" ;;
	*) echo "$test timeout=600" ;;
	esac >"$BUILD/mutation.list"
	# Only the kernel changes: no series checks or selftest rebuild per line.
	if ! "$TOP/scripts/build-kernel.sh" >"$BUILD/mutation-build.log" 2>&1; then
		echo "not ok $n $test # does not build with $what ($BUILD/mutation-build.log)"
		bad=$((bad + 1)); continue
	fi
	out=$(NO_BUILD=1 "$TOP/scripts/test.sh" "$BUILD/mutation.list" 2>&1 | tail -n 1) || true
	failed=0 timedout=0
	if grep -qE '^[0-9]+ passed, [1-9][0-9]* failed' <<<"$out" &&
	   { grep -q '^not ok' "$res/vm.ktap" || [ -n "$(splat_line)" ]; }; then
		failed=1
	fi
	# A test killed by its timeout (rc=137), or the whole VM by its own
	# (did not finish, QEMU killed): not an assertion, whatever it printed.
	if grep -qE '^# timed out after|^not ok .* # rc=137 ' "$res/vm.ktap" ||
	   grep -q '^not ok - vm: test run did not finish (QEMU rc=124' "$res/all.ktap"; then
		timedout=1
	fi
	output=$(test_output)
	got=$(first_assertion <<<"$output")
	secs=$((SECONDS - start))
	# A VM that booted no test (it failed to boot, or QEMU died) ran
	# nothing that could pass: not "still passes".
	if [ ! -f "$res/vm.ktap" ] ||
	   { (( ! timedout )) && ! grep -qE '^(not )?ok [0-9]+ ' "$res/vm.ktap"; }; then
		echo "not ok $n $test did not run with $what ($out) # ${secs}s"
	elif (( ! failed && ! timedout )); then
		echo "not ok $n $test still passes with $what ($out) # ${secs}s"
	elif (( timedout )); then
		echo "not ok $n $test timed out (not caught: no assertion fired) with $what (got: $got) # ${secs}s"
	elif [ "$text" = TODO ]; then
		echo "not ok $n $test fails, but no assertion named (TODO) when: $what (got: $got) # ${secs}s"
	elif grep -qF -- "$text" <<<"$output"; then
		echo "ok $n $test fails with \"$text\" when: $what # ${secs}s"
		continue
	else
		echo "not ok $n $test fails, but without \"$text\" when: $what (got: $got) # ${secs}s"
	fi
	bad=$((bad + 1))
done
restore
"$TOP/scripts/build-kernel.sh" >/dev/null
secs=$((SECONDS - all_start))
echo "# total time: $((secs / 60)) min $((secs % 60)) s for $n mutations"
echo "$((n - bad)) passed, $bad failed"
(( bad == 0 ))
