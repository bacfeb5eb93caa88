#!/bin/bash
# `op-dbus doctor` reports each subsystem's availability; `schema` prints the descriptors.
. "$(dirname "$0")/common.inc"

expect_rc 0 op doctor
expect_contains "plugin net"
expect_contains "rtnetlink"
expect_rc 0 op --json doctor
jq -e '.ok == true and ([.checks[] | .check] | index("plugin net") != null)' <<<"$OUT" >/dev/null || fail "doctor json"
expect_rc 0 op schema -p net
jq -e '.net.schema.properties | has("interfaces") and has("routes")' <<<"$OUT" >/dev/null || fail "schema"
expect_rc 2 op schema -p nosuch
expect_rc 2 "$OPDBUS" --netns "no-such-ns-$$" query
expect_contains "network namespace 'no-such-ns-$$' does not exist"
echo "PASS: $TEST_NAME"
