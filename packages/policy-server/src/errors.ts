// Typed errors of @vla-lora/policy-server.

/** Base class of every error this package throws. */
export class PolicyServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The client sent something the server cannot serve (malformed msgpack, a missing key, a wrong
 * shape or dtype). The server answers with this message as a text frame, as openpi does, and
 * keeps the connection open: the next request on it is served normally.
 */
export class BadRequestError extends PolicyServerError {}

/** The server was asked to listen or serve in a way that cannot work (e.g. the policy is not ready). */
export class ServerConfigError extends PolicyServerError {}

/**
 * A request arrived after the server began shutting down (SIGTERM); it is answered with this
 * message as a text frame instead of being run. Reconnect to another replica.
 */
export class ServerShuttingDownError extends PolicyServerError {}
