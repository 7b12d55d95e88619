// Public API of the Compose loader: load a project (I/O), plus the pure helpers the engine and the
// swarm need to turn the model into resources (names, labels, config hash, start order).
export { loadProject, type LoadOptions, type LoadResult, type LoadedProject } from './load.js';
export { ComposeError, formatProblem, type Problem } from './errors.js';
export type * from './model.js';
export {
  LABELS,
  containerLabels,
  containerName,
  dependsOnLabel,
  isValidProjectName,
  networkLabels,
  normaliseProjectName,
  resourceName,
  serviceConfigHash,
  serviceImage,
  serviceContainerName,
  volumeLabels,
  type ContainerLabelOptions,
} from './names.js';
export { dependencyLevels, shutdownLevels, DependencyCycleError } from './depends.js';
export { durationOrUndefined as parseDuration, formatDuration, bytesOrUndefined as parseBytes } from '../lib/units.js';
export { toPrintable } from './print.js';
export { SUPPORTED_SERVICE_KEYS, UNSUPPORTED_SERVICE_KEYS } from './support.js';
// Lower-level stages, for tests and tools.
export { interpolateString, InterpolationError } from './interpolate.js';
export { parseDotEnv } from './env.js';
export { validateComposeFile } from './schema.js';
export { mergeProjects, mergeService } from './merge.js';
export { normalise, ModelError, type NormaliseContext } from './normalise.js';
export { parseYaml } from './yaml.js';
