/**
 * Public API of the image subsystem, for the engine (agent/) and the CLIs.
 *
 *   const images = await ImageStore.open(dataRoot);          // <dataRoot>/image
 *   await loadArchive(images, file) / saveArchive(images, names, file)
 *   await pullImage(images, 'busybox', { onProgress })       // OCI distribution
 *   images.lowerDirs(id); await images.config(id); await runConfig(images, id)
 *   await images.acquire(id, containerId) / images.release(containerId)
 *   await images.remove(name, { force }) / images.prune({ all }) / images.tag(src, dst)
 *   await listImages(images) / inspectImage(images, name) / imageHistory(images, name)
 */
export { ImageStore, Lease, type NewImage, type RemoveResult, type PruneResult, type LayerSource, type IngestLayerOptions } from './store.js';
export type { ImageRecord, ImageLayer } from './records.js';
export { importImage, type ImportImageOptions } from './import.js';
export { loadArchive, loadArchiveStream, type LoadResult, type LoadedImage, type LoadOptions } from './archive-load.js';
export { saveArchive, saveArchiveTo } from './archive-save.js';
export {
  listImages,
  inspectImage,
  imageHistory,
  runConfig,
  type ImageSummary,
  type ImageInspect,
  type HistoryItem,
  type RunConfig,
  type ListImagesOptions,
} from './api.js';
export {
  parseReference,
  formatReference,
  familiarName,
  familiarRepository,
  repositoryName,
  InvalidReferenceError,
  type Reference,
} from './reference.js';
export { NoSuchImageError, ImageConflictError, InvalidImageError, DigestMismatchError } from './errors.js';
export { UnsafeLayerError, tsunpackPath } from './unpack.js';
export { pullImage, type PullOptions, type PullResult } from './registry/pull.js';
export { pushImage, type PushOptions, type PushResult } from './registry/push.js';
export { login, logout, normaliseServer, type LoginOptions } from './registry/login.js';
export { CredentialStore, defaultCredentialsFile, type Credentials } from './registry/credentials.js';
export { RegistryClient, RegistryError, UnauthorizedError } from './registry/client.js';
export { ProgressRenderer, progressBar, type ProgressEvent, type ProgressListener } from './registry/progress.js';
export type { RegistryOptions } from './registry/options.js';
export type { Digest } from './digest.js';
export type { ImageConfig, ContainerConfig } from './schemas.js';
