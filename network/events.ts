// Where the network service reports what it did, in Docker's terms (GET /events, type "network").
// The engine passes a sink that publishes to the daemon's event bus; in-process callers thus get
// the same events as API clients.

export type NetworkAction = 'create' | 'connect' | 'disconnect' | 'destroy' | 'prune';

/** `id`: the network id ('' for prune, as Docker). `attributes`: name, type (driver), container… */
export type NetworkEventSink = (action: NetworkAction, id: string, attributes: Record<string, string>) => void;
