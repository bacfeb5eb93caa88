#!/bin/bash
# `snapshot receive` must not let a crafted stream write outside the subvolume it receives:
# streams whose file paths climb out ("../../x") or are absolute are refused, nothing appears
# outside, and no half-received subvolume is left behind. A benign forged stream is received.
. "$(dirname "$0")/common.inc"
FORGE=${OPDBUS_SEND_FORGE:?set OPDBUS_SEND_FORGE to the opdbus-send-forge binary}
MNT=$WORK/btrfs
mount_btrfs "$MNT"

for path in "../../escaped" "../../../escaped" "$WORK/escaped-absolute"; do
  "$FORGE" "$path" > "$WORK/stream"
  expect_rc 1 "$OPDBUS" snapshot receive "$MNT/replica" < "$WORK/stream"
  [ ! -e "$MNT/replica/escaped" ] && [ ! -e "$MNT/escaped" ] && [ ! -e "$WORK/escaped-absolute" ] ||
    fail "a stream wrote outside the subvolume with path $path"
  [ -z "$(ls -A "$MNT/replica/.snapshots")" ] || fail "a refused stream left $(ls -A "$MNT/replica/.snapshots")"
done

"$FORGE" "inside" > "$WORK/stream"
expect_rc 0 "$OPDBUS" snapshot receive "$MNT/replica" < "$WORK/stream"
[ -f "$MNT/replica/.snapshots/20260101T000000Z/inside" ] || fail "a benign stream was not received"
echo "PASS: $TEST_NAME"
