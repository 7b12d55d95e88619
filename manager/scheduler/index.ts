// The scheduler's public surface; see README.md for the contract.
export { schedule } from './schedule.js';
export { parseConstraints, parsePreferences, validatePlacement, matchesConstraints, type Constraint, type SpreadPreference } from './constraints.js';
export { fromNodeObject, fromTask, hostPortsOf, occupiesNode, awaitsPlacement } from './adapters.js';
export type { SchedNode, SchedTask, SchedInput, SchedResult, Assignment, Unassigned, HostPort, SchedResources } from './types.js';
