#!/usr/bin/env bash
# The crmform Action's plan step (action.yml, command: plan), on a pull request:
# validate (annotations on the files), plan against the committed state, save the plan,
# and post it as ONE comment that later runs update in place.
#
# Reads (action.yml sets them): SCHEMA_DIR, CRMFORM_STATE, ENVIRONMENT, EXTRA_ARGS, COMMENT,
# ALLOW_DESTROY_LABEL, PR_NUMBER, HEAD_SHA, LABELS_JSON, SAME_REPO, GH_TOKEN, and GitHub's
# GITHUB_REPOSITORY, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP.
# Writes step outputs: has-changes, destroys-data, blocked, artifact, artifact-dir, plan-json.
set -euo pipefail

: "${SCHEMA_DIR:?}" "${CRMFORM_STATE:?}" "${ENVIRONMENT:?}" "${HEAD_SHA:?}"
read -r -a extra <<< "${EXTRA_ARGS:-}"
out="${RUNNER_TEMP:-/tmp}/crmform-plan-$ENVIRONMENT"
rm -rf "$out"
mkdir -p "$out"
marker="<!-- crmform-action:plan environment=$ENVIRONMENT -->"

crmform validate "$SCHEMA_DIR" --format github
crmform plan "$SCHEMA_DIR" --state "$CRMFORM_STATE" --out "$out/crmform.plan" --format json "${extra[@]}" > "$out/plan.json"
crmform show "$out/crmform.plan" --format markdown > "$out/plan.md"

# has-changes, destroys-data, and whether the pull request carries the approval label.
read -r changes destroys approved < <(python - "$out/plan.json" <<'PY'
import json, os, sys
summary = json.load(open(sys.argv[1], encoding="utf-8"))["summary"]
labels = json.loads(os.environ.get("LABELS_JSON") or "[]")
label = os.environ.get("ALLOW_DESTROY_LABEL", "crmform:allow-destroy")
changes = sum(summary.values()) > 0
destroys = summary["replace"] + summary["delete"] > 0
print(str(changes).lower(), str(destroys).lower(), str(label in labels).lower())
PY
)
blocked=false
if [ "$destroys" = true ] && [ "$approved" != true ]; then
  blocked=true
fi
artifact="crmform-plan-$ENVIRONMENT-$HEAD_SHA"
{
  echo "has-changes=$changes"
  echo "destroys-data=$destroys"
  echo "blocked=$blocked"
  echo "artifact=$artifact"
  echo "artifact-dir=$out"
  echo "plan-json=$out/plan.json"
} >> "$GITHUB_OUTPUT"

# The comment: the marker, then the plan's title, data-loss warning and summary in full;
# the tables per object type folded (they follow the first "### " heading).
{
  echo "$marker"
  awk '/^### / && !folded { exit } { print }' "$out/plan.md"
  if [ "$destroys" = true ]; then
    echo
    if [ "$approved" = true ]; then
      echo "> Data loss approved with the \`$ALLOW_DESTROY_LABEL\` label: merging applies it."
    else
      echo "> **Not mergeable yet:** a maintainer who read the warning above adds the \`$ALLOW_DESTROY_LABEL\` label to approve the data loss."
    fi
  fi
  if grep -q '^### ' "$out/plan.md"; then
    echo
    echo "<details><summary>Changes by object type</summary>"
    echo
    awk '/^### / { folded = 1 } folded { print }' "$out/plan.md"
    echo
    echo "</details>"
  fi
  echo
  echo "<sub>Environment \`$ENVIRONMENT\`, commit \`$HEAD_SHA\`. Merging applies exactly this saved plan.</sub>"
} > "$out/comment.md"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$out/comment.md" >> "$GITHUB_STEP_SUMMARY"
fi

# A fork's token cannot comment; its plan is in the job summary and the artifact.
if [ "${COMMENT:-true}" = true ] && [ "${SAME_REPO:-true}" = true ] && [ -n "${PR_NUMBER:-}" ]; then
  id=$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" \
    --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | tail -n 1)
  if [ -n "$id" ]; then
    gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" -F "body=@$out/comment.md" > /dev/null
    echo "Updated the plan comment on #$PR_NUMBER."
  else
    gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$PR_NUMBER/comments" -F "body=@$out/comment.md" > /dev/null
    echo "Posted the plan comment on #$PR_NUMBER."
  fi
fi
