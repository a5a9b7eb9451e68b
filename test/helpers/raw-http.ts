import { connect, type Socket } from 'node:net';

/** A response as read off the socket. */
export interface RawAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
  /** Body bytes the client had written when the answer's head arrived. */
  sentBeforeAnswer: number;
}

/** A request written by hand, so a test decides when, and whether, each byte of the body goes. */
export interface RawRequest {
  /** Resolves once the whole answer has arrived; rejects if the socket closes before it does. */
  answer: Promise<RawAnswer>;
  /** Resolves when the server (or the test) has closed the connection. */
  closed: Promise<void>;
  answered(): boolean;
  /**
   * Writes body bytes in `chunkSize` pieces, waiting for the socket to drain, until all are
   * written, the answer arrives or the socket closes. With `chunked`, each piece is framed as a
   * chunk and the last-chunk follows. Returns how many body bytes were written.
   */
  send(body: Buffer, options?: { chunkSize?: number; chunked?: boolean }): Promise<number>;
  destroy(): void;
}

/** Opens a connection to `url`'s host and writes the request line and headers at once. */
export function rawRequest(
  url: string,
  { method = 'POST', headers }: { method?: string; headers: Record<string, string> },
): RawRequest {
  const target = new URL(url);
  const socket: Socket = connect(Number(target.port), target.hostname);
  socket.on('error', () => {}); // a server closing mid-upload is what some tests are about
  const head = Object.entries({ host: target.host, ...headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(`${method} ${target.pathname}${target.search} HTTP/1.1\r\n${head}\r\n`);

  let sent = 0;
  let done = false;
  let received = Buffer.alloc(0);
  let sentBeforeAnswer = -1;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    const tryParse = () => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (sentBeforeAnswer < 0) sentBeforeAnswer = sent;
      const [statusLine = '', ...lines] = received
        .subarray(0, end)
        .toString('latin1')
        .split('\r\n');
      const fields: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        fields[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(fields['content-length'] ?? 0);
      const body = received.subarray(end + 4);
      if (body.length < length) return;
      done = true;
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers: fields,
        body: body.subarray(0, length).toString('utf8'),
        sentBeforeAnswer,
      });
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!done) tryParse();
    });
    void closed.then(() => {
      if (!done) reject(new Error(`the connection closed before an answer: ${received}`));
    });
  });
  answer.catch(() => {}); // read by the test that awaits it; unhandled otherwise

  async function write(data: Buffer | string): Promise<boolean> {
    if (done || socket.destroyed) return false;
    if (!socket.write(data)) {
      await new Promise<void>((resolve) => {
        const settle = () => {
          socket.off('drain', settle).off('close', settle);
          resolve();
        };
        socket.once('drain', settle).once('close', settle);
      });
    }
    return !done && !socket.destroyed;
  }

  return {
    answer,
    closed,
    answered: () => done,
    async send(body, { chunkSize = 1024 * 1024, chunked = false } = {}) {
      for (let at = 0; at < body.length; at += chunkSize) {
        const piece = body.subarray(at, at + chunkSize);
        const framed = chunked
          ? Buffer.concat([
              Buffer.from(`${piece.length.toString(16)}\r\n`),
              piece,
              Buffer.from('\r\n'),
            ])
          : piece;
        if (!(await write(framed))) return sent;
        sent += piece.length;
      }
      if (chunked) await write('0\r\n\r\n');
      return sent;
    },
    destroy: () => socket.destroy(),
  };
}
