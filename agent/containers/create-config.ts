// The create body moved to api/containers.ts (shared with the CLIs); this path stays for the daemon's
// many importers (agent/exec among them).
export * from '../../api/containers.js';
