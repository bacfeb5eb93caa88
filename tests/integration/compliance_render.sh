#!/bin/bash
# The report forms against their schemas and in a browser: the golden reports of the unit tests
# (tests/unit/data/compliance) and reports made here from a real apply validate, with Ajv, against
# the documented report schema (data/compliance/report.schema.json) and, for OSCAL, against
# NIST's OSCAL 1.0.4 Assessment Results JSON schema (tests/data/oscal); the HTML reports render in
# headless Chromium without fetching anything, agree with the signed report they embed, and are
# kept as screenshots in the build's test-artifacts/ directory.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/node.inc"
[ -x /usr/bin/chromium ] || skip "Debian's chromium is not installed"
SOURCE=$(cd "$(dirname "$0")/../.." && pwd)
GOLDEN=$SOURCE/tests/unit/data/compliance
ARTIFACTS=${OPDBUS_ARTIFACTS:-$WORK/artifacts}
mkdir -p "$ARTIFACTS"
validate() { "$NODE22" "$NODE_DIR/validate_schema.mjs" "$@"; }

nsip link set lo up
write_state "$WORK/state.json" <<'JSON'
{"version": 1, "plugins": {"net": {"interfaces": [{"name": "odt-r0", "type": "bridge", "state": "up"}]}}}
JSON
expect_rc 0 op apply "$WORK/state.json"
expect_rc 2 op compliance report --framework pci-dss -o "$WORK/pci.json"
expect_rc 2 op compliance report --framework soc2 --format oscal -o "$WORK/soc2.oscal.json"
expect_rc 2 op compliance report --framework hipaa --format html -o "$WORK/hipaa.html"
expect_rc 2 op compliance report --framework pci-dss-4 --format oscal -o "$WORK/pci4.oscal.json"

validate "$SOURCE/data/compliance/report.schema.json" "$GOLDEN"/{soc2,hipaa,pci-dss,pci-dss-4}.json "$WORK/pci.json" \
  >"$WORK/schema.out" || fail "a report does not match its schema: $(cat "$WORK/schema.out")"
validate "$SOURCE/tests/data/oscal/oscal_assessment-results_schema.json" "$GOLDEN/soc2.oscal.json" \
  "$WORK/soc2.oscal.json" "$WORK/pci4.oscal.json" >"$WORK/oscal.out" || fail "not valid OSCAL: $(cat "$WORK/oscal.out")"
jq '."assessment-results".results[0].findings[0].target.status.state = "maybe"' "$WORK/soc2.oscal.json" \
  >"$WORK/broken.oscal.json"
! validate "$SOURCE/tests/data/oscal/oscal_assessment-results_schema.json" "$WORK/broken.oscal.json" \
  >/dev/null || fail "the OSCAL schema check accepts an invalid finding state"

for page in "$GOLDEN/soc2.html" "$WORK/hipaa.html"; do
  name=$(basename "$page" .html)
  "$NODE22" "$NODE_DIR/compliance_html.mjs" "$page" "$ARTIFACTS/compliance-$name.png" \
    >"$WORK/$name.page.json" 2>"$WORK/$name.page.err" || fail "browser: $(cat "$WORK/$name.page.err")"
  jq -e '(.errors == []) and (.requests == []) and (.controlRows == .report.controls)
    and (.title | test("compliance report")) and (.width <= 1200)
    and ((.result == "All controls pass") == (.report.result == "pass"))
    and ((.failBadges > 0) == (.report.result == "fail"))' "$WORK/$name.page.json" >/dev/null ||
    fail "$name renders wrongly: $(cat "$WORK/$name.page.json")"
done
jq -e '.dots == 9' "$WORK/soc2.page.json" >/dev/null || fail "the golden timeline lacks events: $(cat "$WORK/soc2.page.json")"
ls "$ARTIFACTS"/compliance-*.png >/dev/null || fail "no screenshots"
echo "PASS: $TEST_NAME (screenshots in $ARTIFACTS)"
