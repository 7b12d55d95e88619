// Version info shared by every binary. Kept dependency-free so that `tsswarm version` starts fast.
export const VERSION = '0.1.0';
export const API_VERSION = '1.50';
