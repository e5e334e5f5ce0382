// Package opstest holds the operator-facing acceptance tests of Taskmind:
// they build the real binary once and run it as a separate process, the way
// an operator does, then check what only a running process can show. A real
// Prometheus scrapes it and evaluates every dashboard and alert expression;
// SIGTERM under a PostgreSQL write load loses no acknowledged write; the
// static binary serves from an empty root filesystem as a non-root user;
// random URLs cannot grow the metric series; the logs never hold a secret;
// and the command-line surface behaves as documented.
//
// The package has no non-test code. External programs (PostgreSQL through
// TASKMIND_TEST_DATABASE_URL, Debian's prometheus) are required under CI=true
// and skipped with a message otherwise; -short skips the whole package.
package opstest
