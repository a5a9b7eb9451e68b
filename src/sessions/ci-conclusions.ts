/**
 * The conclusions that mean CI failed on a commit. The first five are check run and workflow run
 * conclusions, in the order a CI report details them: a cancelled run is often collateral (a
 * fail-fast matrix cancels its siblings), so it comes after real failures. `error` is a commit
 * status's failing state, which `src/github/translate.ts` passes on as the conclusion. `neutral`,
 * `skipped` and `stale` (never finished, marked by GitHub after 14 days) do not count.
 */
export const FAILED_CONCLUSIONS = [
  'failure',
  'timed_out',
  'startup_failure',
  'action_required',
  'cancelled',
  'error',
] as const;

/** Whether a check run, workflow run or commit status concluded as a failure. */
export function isFailedConclusion(value: string | null | undefined): boolean {
  return value != null && (FAILED_CONCLUSIONS as readonly string[]).includes(value);
}
