// The Engine API's container summary (GET /containers/json) as tscompose reads it. Its own module,
// free of the client and the loader, so that `ps` can use it without loading either.

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  Command: string;
  Created: number;
  Ports: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  Labels: Record<string, string>;
  State: string;
  Status: string;
  HostConfig?: { NetworkMode?: string };
  Mounts?: Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>;
}

export const nameOf = (c: ContainerSummary): string => (c.Names[0] ?? c.Id.slice(0, 12)).replace(/^\//, '');
