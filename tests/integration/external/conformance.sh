#!/bin/sh
# Runs the conformance kit (switchboard driver check) against the sample Python driver.
#   conformance.sh SWITCHBOARD SOURCE_DIR good   the driver must pass every interaction
#   conformance.sh SWITCHBOARD SOURCE_DIR bad    the driver forgets its replies (--forget-replies):
#                                                the kit must fail, naming the interaction
set -u
switchboard=$1
source_dir=$2
mode=${3:-good}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
: > "$dir/inbox.txt"
misbehave=""
if [ "$mode" = bad ]; then
  misbehave="--forget-replies"
fi
"$switchboard" driver check --name sms-gw --timeout 30s \
  --contact "echo '+351912345678 Olá, o meu cartão SIM não chegou' >> '$dir/inbox.txt'" \
  -- /usr/bin/python3 "$source_dir/samples/external-driver/driver.py" \
  --inbox "$dir/inbox.txt" --state "$dir/state" $misbehave > "$dir/report.txt"
status=$?
cat "$dir/report.txt"
if [ "$mode" = good ]; then
  exit "$status"
fi
if [ "$status" -ne 1 ]; then
  echo "the kit should have failed (exit 1), not exited $status"
  exit 1
fi
grep -q "^FAIL  reply sent again (6.4): expected duplicate" "$dir/report.txt" || {
  echo "the kit should have named the failed interaction"
  exit 1
}
grep -q "^PASS  reply (7.6)" "$dir/report.txt"
