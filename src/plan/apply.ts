// Apply, by job: batches.ts (cutting the plan into calls and keys), checks.ts (is the plan still fit to
// apply), decide.ts (what Shopify's answer means for each row: pure), send.ts (one call with
// compare-and-swap, re-reads, the step `watch` shares), lanes.ts (calls in flight), outcomes.ts (the
// result and what is left undone), group-writer.ts (writes committed together), run.ts (the loop that
// records and resumes).
export { BATCH_SIZE, idempotencyKey, planBatches, streamBatches, type PlannedBatch } from './apply/batches.js';
export { checkPlan, levelsChangedByOtherPlans } from './apply/checks.js';
export { decide, rowsToReread, type Answer, type Decision, type LevelFacts, type WriteMode } from './apply/decide.js';
export { readAvailable, sendWrites, writeStep, type LevelWrite, type SentCall, type StepInput } from './apply/send.js';
export { undone, type ApplyResult, type CarriedReport, type PreviewRow, type RowReport } from './apply/outcomes.js';
export { applyPlan, DEFAULT_MAX_MISSES, type ApplyOptions } from './apply/run.js';
export { DEFAULT_MAX_IN_FLIGHT } from './apply/lanes.js';
