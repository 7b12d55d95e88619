/**
 * `tsswarm build`, for the engine:
 *
 *   const builder = new Builder({ store, executor: runtimeExecutor(runtime), root: `${dataRoot}/build`, pull });
 *   const { imageId } = await builder.build({ context, dockerfile, tags, buildArgs, target, noCache, labels, output });
 *
 * Errors: DockerfileError (names file:line and instruction) and BuildError (context, mounts), both with
 * status 400; NoSuchImageError from the store when a base image is missing and no `pull` is given.
 */
export { Builder, build, hostPlatform, type BuildOptions, type BuildResult, type BuilderDeps } from './builder.js';
export { runtimeExecutor, type RunExecutor, type RunRequest, type RunResult } from './executor.js';
export { DockerfileError, BuildError } from './errors.js';
export { planBuild, type BuildPlan, type Stage, type PlanOptions, type TargetPlatform } from './plan.js';
export { parseDockerfile } from './parse.js';
export { parseInstructions, type Instruction } from './instructions.js';
