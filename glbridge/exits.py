"""Exit codes of `glbridge pos` commands, in one place so that scripts can rely on them.

0: every day posted (or had nothing to post); otherwise the code says what to do next.
2 is left to the command line's own usage errors (typer)."""

OK = 0
# The system could not be reached or answered with an error of its own: try again later.
UNAVAILABLE = 1
# Xero refused a day (its errors name the Account Numbers entry): fix, then post again.
FAILED = 3
# No answer from Xero yet within the wait: run the same command again later to check.
PENDING = 4
# Totals or auth refused what was sent (a wrong key, totals that do not balance, bad
# arguments): fix the input, then run again.
REFUSED = 5
# Ctrl-C: progress is kept; the same command carries on.
INTERRUPTED = 130
