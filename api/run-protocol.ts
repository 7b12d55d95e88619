// `POST /containers/run` (a tsswarm extension of the Engine API): create + start + attach + wait in
// one round trip, for `tsswarm run`. Dependency-free: the CLI and the daemon
// (agent/api/routes-containers.ts) both import it.
//
// Request: the body of `POST /containers/create`; query `name`, `detach=1`, `timings=1`.
// Refusals (of the create or the start) are ordinary JSON errors `{"message": …}`, nothing made is
// left behind (with AutoRemove). With `detach=1` the answer is create's `201 {"Id", "Warnings"}`
// once the container runs. Otherwise `200`, header `X-Tsswarm-Container` = the ID, and a body in
// Docker's multiplexed-stream framing (8-byte header: stream, 0, 0, 0, size big-endian): stdout (1)
// and stderr (2) frames as attach sends them, then one STATUS_STREAM frame whose payload is JSON
// {"StatusCode": n, "Timings"?: {...}} — sent at the container's (first) exit, or for AutoRemove
// once it is removed, like `wait?condition=next-exit|removed`.
//
// Interactive (`stdin=1`, or a body with Tty): the request carries `Connection: Upgrade` and
// `Upgrade: tcp`; once the container runs the answer is `101 UPGRADED` (with X-Tsswarm-Container) and
// the connection is a two-way stream: client bytes go to the container's stdin (the client half-closes
// for EOF), output comes framed as above even with a tty, then the STATUS_STREAM frame. Query `h`,
// `w`: the terminal's size at start; `detachKeys` (default ctrl-p,ctrl-q): when typed the daemon
// sends {"StatusCode": 0, "Detached": true} and the container keeps running.

/** Stream byte of the final frame; Docker uses 0-3, so this cannot clash with output. */
export const STATUS_STREAM = 0x80;

/** Header carrying the new container's ID. */
export const CONTAINER_HEADER = 'x-tsswarm-container';

export interface RunStatus {
  StatusCode: number;
  /** Milliseconds per daemon step (see agent/containers/timeline.ts), when asked with timings=1. */
  Timings?: Record<string, number>;
  /** The client typed the detach keys; the container runs on. */
  Detached?: boolean;
}
