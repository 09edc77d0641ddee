#!/usr/bin/env bash
# The crmform Action's apply step (action.yml, command: apply), on a push to the default
# branch: find the merged pull request, download the plan its newest successful plan run
# saved for its last commit, apply exactly that plan, commit the state, and check that the
# merged files are fully applied. The checkout must be the newest default branch (ref: main,
# fetch-depth: 0): the previous apply may have committed a newer state.
#
# Reads (action.yml sets them): SCHEMA_DIR, CRMFORM_STATE, ENVIRONMENT, EXTRA_ARGS,
# ALLOW_DESTROY_LABEL, COMMIT_STATE, GH_TOKEN, the Gong settings (GONG_*), and GitHub's
# GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF_NAME, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
# RUNNER_TEMP. Writes step outputs: pull-request, applied, result-json.
set -euo pipefail

: "${SCHEMA_DIR:?}" "${CRMFORM_STATE:?}" "${ENVIRONMENT:?}" "${GITHUB_SHA:?}"
read -r -a extra <<< "${EXTRA_ARGS:-}"
label="${ALLOW_DESTROY_LABEL:-crmform:allow-destroy}"
branch="${GITHUB_REF_NAME:-main}"
work="${RUNNER_TEMP:-/tmp}/crmform-apply-$ENVIRONMENT"
rm -rf "$work"
mkdir -p "$work/reviewed"
result="$work/apply.json"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"

pr=$(gh api "repos/$GITHUB_REPOSITORY/commits/$GITHUB_SHA/pulls" \
  --jq '[.[] | select(.merged_at != null)] | first // empty')
if [ -z "$pr" ]; then
  echo "::error::$GITHUB_SHA reached $branch without a merged pull request, so there is no reviewed plan to apply. Nothing was applied; make the change through a pull request."
  exit 1
fi
number=$(python -c 'import json, sys; print(json.load(sys.stdin)["number"])' <<< "$pr")
head=$(python -c 'import json, sys; print(json.load(sys.stdin)["head"]["sha"])' <<< "$pr")
allow=$(LABEL="$label" python -c 'import json, os, sys; print(str(os.environ["LABEL"] in [l["name"] for l in json.load(sys.stdin)["labels"]]).lower())' <<< "$pr")
echo "pull-request=$number" >> "$GITHUB_OUTPUT"

# The newest plan artifact for the PR's last commit is the plan reviewers saw last; its run
# must have succeeded (a plan deleting data without the label fails its run).
name="crmform-plan-$ENVIRONMENT-$head"
run=$(gh api "repos/$GITHUB_REPOSITORY/actions/artifacts?name=$name&per_page=1" \
  --jq '.artifacts[0] | select(.expired == false) | .workflow_run.id // empty')
if [ -z "$run" ]; then
  echo "::error::No saved plan $name for PR #$number (commit $head): its plan run did not save one, or it expired. Nothing was applied."
  exit 1
fi
conclusion=$(gh api "repos/$GITHUB_REPOSITORY/actions/runs/$run" --jq '.conclusion')
if [ "$conclusion" != success ]; then
  echo "::error::The plan run $run for PR #$number (commit $head) did not succeed ($conclusion), so the merged code has no approved plan. Nothing was applied."
  exit 1
fi
gh run download "$run" --repo "$GITHUB_REPOSITORY" --name "$name" --dir "$work/reviewed"
plan="$work/reviewed/crmform.plan"

crmform show "$plan"
# crmform refuses (exit 1, nothing sent) a plan whose state moved since it was made.
status=0
if [ "$allow" = "true" ]; then
  crmform apply "$plan" --state "$CRMFORM_STATE" --auto-approve --allow-destroy --format json "${extra[@]}" > "$result" || status=$?
else
  crmform apply "$plan" --state "$CRMFORM_STATE" --auto-approve --format json "${extra[@]}" > "$result" || status=$?
fi
echo "result-json=$result" >> "$GITHUB_OUTPUT"
cp "$CRMFORM_STATE" "$work/" 2> /dev/null || true

# Commit the state, also after a partial failure: it records every upload Gong accepted.
if [ "${COMMIT_STATE:-true}" = true ] && [ -n "$(git status --porcelain -- "$CRMFORM_STATE")" ]; then
  git config user.name "github-actions[bot]"
  git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
  git add -- "$CRMFORM_STATE"
  git commit --quiet -m "crmform: state after applying #$number [skip ci]"
  pushed=false
  for attempt in 1 2 3; do
    if git push --quiet origin "HEAD:$branch"; then
      pushed=true
      break
    fi
    echo "Push $attempt of the state failed; rebasing on $branch."
    git pull --quiet --rebase origin "$branch"
  done
  if [ "$pushed" != true ]; then
    echo "::error::The state could not be pushed; it is in the crmform-apply artifact. Commit it to $branch before anything else is applied."
    exit 1
  fi
fi

if [ "$status" -ne 0 ]; then
  echo "applied=false" >> "$GITHUB_OUTPUT"
  {
    echo "## crmform apply failed"
    echo
    if [ -s "$result" ]; then
      echo "Per address: applied, failed (with Gong's status, errors and requestId), or not attempted."
      echo
      echo '```json'
      cat "$result"
      echo '```'
    else
      echo "Apply stopped before sending anything; the step's log says why. A stale plan (someone applied since it was reviewed) is refused this way."
    fi
    echo
    echo "A fresh plan against the current state follows. It is not applied: review it in a new pull request."
    echo
    crmform plan "$SCHEMA_DIR" --state "$CRMFORM_STATE" --format markdown || true
  } >> "$summary"
  echo "::error::crmform apply failed; see the job summary for the result and a fresh plan."
  exit 1
fi
echo "applied=true" >> "$GITHUB_OUTPUT"

# The merged files must now be fully applied (2: main has changes no reviewed plan had).
git worktree add --detach "$work/merged" "$GITHUB_SHA" > /dev/null
code=0
crmform plan "$work/merged/$SCHEMA_DIR" --state "$CRMFORM_STATE" --detailed-exitcode --format markdown > "$work/remaining.md" || code=$?
git worktree remove --force "$work/merged"
if [ "$code" -eq 2 ]; then
  { echo "## Merged but not applied"; echo; cat "$work/remaining.md"; } >> "$summary"
  echo "::error::The merged schema files differ from what is applied (a cancelled run, or a plan made before an earlier change). Open a pull request to review and apply the rest."
fi
exit "$code"
