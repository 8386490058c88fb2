#!/usr/bin/env bash
# Records what the bot sends to the fake Discord for every question of
# tests/questions.jsonl (and every other command and button) under an older commit and
# under this work tree, then compares the two line by line: each line is one request,
# its body byte for byte as sent, with session numbers, interaction ids and tokens and
# reindex times normalised (see tests/it/discord/payloads.rs).
#
# Usage: scripts/diff-discord-payloads.sh [OLD_COMMIT]   (default: 1b1f8e3)
# The old commit is checked out and built in a worktree of its own under $PAYLOADS_WORK
# (default: a new temp dir); set PAYLOADS_WORK to an earlier run's folder to reuse its
# build. Traffic stays on 127.0.0.1.
set -euo pipefail

root=$(git rev-parse --show-toplevel)
old=${1:-1b1f8e3}
work=${PAYLOADS_WORK:-$(mktemp -d)}
tree="$work/old"
mkdir -p "$work"
if [ ! -e "$tree" ]; then
    git -C "$root" worktree add --detach "$tree" "$old" >/dev/null
fi

# The recorder and the fake Discord of this tree, compiled against the old library.
mkdir -p "$tree/tests/record"
cp "$root/tests/it/support/fake_discord.rs" "$root/tests/it/discord/payloads.rs" "$tree/tests/record/"
cat > "$tree/tests/record_payloads.rs" <<'RUST'
//! The payload recorder of the newer tree, compiled against this version.
mod support {
    #[path = "../record/fake_discord.rs"]
    pub mod fake_discord;
}
#[path = "record/payloads.rs"]
mod payloads;
RUST

(cd "$tree" && SPACECOLLAB_PAYLOADS="$work/old.jsonl" cargo test --test record_payloads -- --ignored --quiet)
(cd "$root" && SPACECOLLAB_PAYLOADS="$work/new.jsonl" cargo test --test it payloads -- --ignored --quiet)

total=$(wc -l < "$work/new.jsonl")
if diff "$work/old.jsonl" "$work/new.jsonl" > "$work/payloads.diff"; then
    echo "all $total requests byte-identical"
else
    changed=$(grep -c '^>' "$work/payloads.diff" || true)
    echo "$changed of $total requests differ; the diff is in $work/payloads.diff"
    grep '^>' "$work/payloads.diff" | grep -o '"label":"[^"]*"' | sort | uniq -c
fi
