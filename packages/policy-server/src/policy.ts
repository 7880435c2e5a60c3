// What the server serves: anything that turns an observation into an action chunk.
import type { WireMap, WireValue } from './protocol/msgpack-numpy.js';

/**
 * A policy as the server sees it (openpi's BasePolicy). `infer` receives the decoded request
 * (numpy arrays as NdArray) and returns the reply map; it must contain `actions`. It throws
 * BadRequestError for inputs it cannot use (missing keys, wrong shapes): the client gets the
 * message, the connection stays open. Any other error is a server fault.
 */
export interface ServedPolicy {
  /** Sent to every client right after the handshake, and served as JSON at /metadata. */
  readonly metadata: WireMap;
  infer(observation: WireMap): Promise<{ [key: string]: WireValue }> | { [key: string]: WireValue };
}
