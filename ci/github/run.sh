#!/usr/bin/env bash
# Run one reconciler command for the GitHub Action (action.yml), from the repository root.
#
# Sets the step outputs exitcode, has-changes and summary-file; writes the step summary; on a
# plan in a pull request posts or edits the plan comment. Fails the step only on an error
# (exit 1 or any code but 0 and 2): changes and drift (exit 2) are an output, not a failure.
set -uo pipefail

command="${INPUT_COMMAND:-plan}"
folder="${INPUT_WORKING_DIRECTORY:-.}"
plan_file="${INPUT_PLAN_FILE:-}"
summary_file="${RUNNER_TEMP:-/tmp}/reconciler-${command}-summary.md"
output_file="${RUNNER_TEMP:-/tmp}/reconciler-${command}-output.txt"
read -r -a extra <<<"${INPUT_ARGS:-}"

args=(-C "$folder" "$command")
case "$command" in
  plan)
    args+=(--format github --detailed-exitcode --out "${plan_file:-reconciler.plan.json}")
    case "${GITHUB_EVENT_NAME:-}" in
      pull_request | pull_request_target)
        if [ "${INPUT_COMMENT:-true}" = "true" ]; then args+=(--comment github); fi ;;
    esac ;;
  drift | validate)
    args+=(--format github) ;;
  apply)
    args+=(--auto-approve)
    if [ -n "$plan_file" ]; then args+=("$plan_file"); fi ;;
  *)
    echo "::error title=reconciler::command must be plan, apply, drift or validate, not '$command'"
    exit 1 ;;
esac

: >"$summary_file"
# plan and drift append their markdown to the summary file they are given: catch it, then pass
# it on to the step summary, so it is also at hand for an issue or a comment (summary-file)
GITHUB_STEP_SUMMARY="$summary_file" reconciler "${args[@]}" "${extra[@]}" | tee "$output_file"
code=${PIPESTATUS[0]}

if [ "$command" = apply ]; then
  {
    echo "### reconciler apply"
    echo
    echo '```text'
    cat "$output_file"
    echo '```'
  } >>"$summary_file"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$summary_file" >>"$GITHUB_STEP_SUMMARY"; fi

changes=false
if [ "$code" -eq 2 ]; then changes=true; fi
if [ "$command" = apply ] && [ "$code" -eq 0 ] && grep -Eq '^Apply complete: [1-9]' "$output_file"; then
  changes=true
fi
{
  echo "exitcode=$code"
  echo "has-changes=$changes"
  echo "summary-file=$summary_file"
} >>"${GITHUB_OUTPUT:-/dev/null}"

if [ "$code" -eq 0 ] || [ "$code" -eq 2 ]; then exit 0; fi
echo "::error title=reconciler $command::reconciler $command failed (exit $code); see the log above"
exit "$code"
