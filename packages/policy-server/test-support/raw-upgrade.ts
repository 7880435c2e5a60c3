// A client that upgrades to a WebSocket and then stalls, for shutdown tests (policy-server's and vla-serve's).
import { connect, type Socket } from 'node:net';

/**
 * Does the WebSocket upgrade by hand on a raw TCP socket; resolves with the status line and the socket.
 * From then on this client reads nothing more and never answers a close frame.
 */
export function rawUpgrade(port: number): Promise<{ status: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', () =>
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (buf.indexOf('\r\n\r\n') < 0) return;
      socket.off('data', onData);
      socket.pause();
      resolve({ status: buf.subarray(0, buf.indexOf('\r\n')).toString(), socket });
    };
    socket.on('data', onData);
  });
}
