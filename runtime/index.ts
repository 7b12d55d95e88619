// The container runtime: OCI spec building, the driver, and the tsbox plan.
export { Runtime, DEFAULT_ROOT, OVERLAY_ANNOTATION, INIT_ANNOTATION, cgroupPathOf, toCgroupResources } from './driver.js';
export type { RuntimeOptions, CreateOptions, CreateResult, ExecOptions, ExecHandle, OverlayRoot } from './driver.js';
export { RuntimeError } from './errors.js';
export type { ContainerRuntime } from './runtime.js';
export { AttachConnection, connectAttach, FRAME_STDIN, FRAME_STDOUT, FRAME_STDERR, FRAME_RESIZE, FRAME_CLOSE_STDIN, frameHeader } from './attach.js';
export { buildSpec, parseSpec, validateSpec, SpecError, defaultMounts, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from './spec.js';
export type { Spec, SpecOptions, SpecProcess, SpecMount, SpecResources } from './spec.js';
export { DEFAULT_CAPABILITIES, CAPABILITIES, tweakCapabilities } from './caps.js';
export type { ExitStatus, OciState, Status } from './state.js';
export { tsboxPath } from './host.js';
export { defaultSeccompProfile } from './seccomp/default-profile.js';
export { parseSecurityOpts } from './seccomp/security-opt.js';
export type { SecurityOptions } from './seccomp/security-opt.js';
export type { Seccomp } from './seccomp/schema.js';
