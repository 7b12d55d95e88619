// `GET|HEAD /_ping`: the Docker CLI negotiates its API version from these headers (without
// API-Version it falls back to 1.24) and picks its builder from Builder-Version: "1" is the legacy
// builder, which is all this daemon has, so the CLI never tries BuildKit's /session.
import type { Router } from './router.js';
import { HANDLED } from './router.js';
import { API_VERSION } from '../../lib/version.js';

export const PING_HEADERS: Readonly<Record<string, string>> = {
  'API-Version': API_VERSION,
  OSType: 'linux',
  'Docker-Experimental': 'false',
  'Builder-Version': '1',
  'Cache-Control': 'no-cache, no-store, must-revalidate',
  Pragma: 'no-cache',
};

export function pingRoutes(router: Router): void {
  router
    .get('/_ping', async ({ res }) => {
      res.writeHead(200, { ...PING_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '2' }).end('OK');
      return HANDLED;
    })
    .head('/_ping', async ({ res }) => {
      res.writeHead(200, { ...PING_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '0' }).end();
      return HANDLED;
    });
}
