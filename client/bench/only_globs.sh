# shellcheck shell=bash
# Sourced by the benchmark scripts: the workload filter of their --only option.
#
# matches_only NAME GLOBS succeeds when GLOBS (comma-separated shell
# patterns) is empty or one of its patterns matches NAME.

matches_only() {  # NAME GLOBS
  [[ -z $2 ]] && return 0
  local pattern
  local -a globs
  IFS=, read -r -a globs <<<"$2"
  for pattern in "${globs[@]}"; do
    # shellcheck disable=SC2053 # the pattern is a glob on purpose
    [[ $1 == $pattern ]] && return 0
  done
  return 1
}
