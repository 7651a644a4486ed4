/**
 * `ecr-backfill/cli`: the AWS-mode program and the pieces the offline rig's commands (demo, local,
 * emulator, bench) are built from, so they look and behave like the product's. For the rig only:
 * see core/index.ts.
 */
export { addSelectionFlags, inputFromFlags, readInputOption } from './input/input-flags.ts';
export { parseEndpointUrl, runCommand, writeJson } from './kit/command-kit.ts';
export type { CliContext, OutputStream } from './kit/context.ts';
export { CliError, emulatorCommandFor, networkCodeOf } from './kit/errors.ts';
export { EXIT_CODES } from './kit/exit-codes.ts';
export { formatUsd, renderMarkdownTable, renderTable, type Cell } from './kit/format.ts';
export { buildProgram, main } from './main.ts';
export {
  CLI_PERMISSION_COMMANDS,
  CLI_PERMISSIONS,
  cliPolicy,
  renderCliPermissionsTable,
  type CliPermissionCommand,
} from './permissions.ts';
export { planLocally, type LocalPlan } from './plan/local-planner.ts';
export { renderReport } from './report/report-format.ts';
export { RunReportSchema } from './report/run-report.ts';
export { parseExecutionOutput, renderPlanSummary } from './watch/execution-summary.ts';
export { failureParagraph } from './watch/failure.ts';
export type { RunLocation } from './watch/native-watch.ts';
export { createProgressView, type ProgressSnapshot, type ProgressView } from './watch/progress.ts';
export { RateEstimator } from './watch/rate.ts';
export { anchoredEtaSeconds, RunProgressReader, type RunProgress } from './watch/run-progress.ts';
