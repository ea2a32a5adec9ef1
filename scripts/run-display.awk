# make run's screen: the console lines that tell what happens, and one
# status line merged from the L1's and the L2's once-a-second samples
# (rewritten in place on a terminal, every 10 s otherwise).
# Input: the console without CRs; -v tty=1 on a terminal.
function show(line) {
	if (tty && shown) printf "\r\033[K"
	print line
	shown = 0
	fflush()
}
function status(t) {
	s = sprintf("  [%s %4ss] L1 %s | L2 %s", phase, t, l1, l2)
	if (tty) { printf "\r\033[K%s", s; shown = 1; fflush() }
	else if (t % 10 == 0) show(s)
}
/^rig-apf: (on|off) [0-9]+s / {
	phase = $2; t = $3; sub(/s$/, "", t)
	l1 = $0; sub(/^rig-apf: [a-z]+ [0-9]+s /, "", l1)
	status(t)
	next
}
/^L2\| apf-load: (t=[0-9]+s|filling) / {
	l2 = $0; sub(/^L2\| apf-load: (t=[0-9]+s )?/, "", l2)
	next
}
/^rig-apf: phase / { l1 = l2 = "" }
/^(rig|L2\| rig|L2\| apf-load|\[)|BUG|Oops|panic|Out of memory|Killed process|TIMEOUT|error/ { show($0) }
END { if (tty && shown) print "" }
