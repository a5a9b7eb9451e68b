/**
 * A TCP proxy in front of PostgreSQL that counts the statements its clients execute, by reading
 * the frontend side of the wire protocol: each Execute message (extended protocol, what
 * postgres.js uses) and each simple Query message is one statement. Parse messages give each
 * prepared statement's text, Bind ties a portal to it, so every count is kept per SQL text.
 * Nothing is changed on the way through; the server needs no extension or setting.
 */
import net from 'node:net';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

export interface StatementCounts {
  total: number;
  byText: Map<string, number>;
}

/** Reads one connection's frontend messages and reports each executed statement's text. */
function frontendReader(onStatement: (text: string) => void) {
  let buffer: Buffer = Buffer.alloc(0);
  let startup = true;
  const statements = new Map<string, string>();
  const portals = new Map<string, string>();

  const cstring = (data: Buffer, from: number): [string, number] => {
    const end = data.indexOf(0, from);
    return [data.toString('utf8', from, end), end + 1];
  };

  return (chunk: Buffer) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      if (startup) {
        // Untyped: length, then a protocol version or a request code.
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        buffer = buffer.subarray(length);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST && code !== CANCEL_REQUEST)
          startup = false;
        continue;
      }
      if (buffer.length < 5) return;
      const type = String.fromCharCode(buffer[0]!);
      const length = buffer.readInt32BE(1);
      if (buffer.length < 1 + length) return;
      const body = buffer.subarray(5, 1 + length);
      buffer = buffer.subarray(1 + length);
      if (type === 'P') {
        const [name, next] = cstring(body, 0);
        statements.set(name, cstring(body, next)[0]);
      } else if (type === 'B') {
        const [portal, next] = cstring(body, 0);
        portals.set(portal, statements.get(cstring(body, next)[0]) ?? '(unknown statement)');
      } else if (type === 'E') {
        onStatement(portals.get(cstring(body, 0)[0]) ?? '(unknown portal)');
      } else if (type === 'Q') {
        onStatement(cstring(body, 0)[0]);
      }
    }
  };
}

export async function startCountingProxy(target: { host: string; port: number }) {
  const counts: StatementCounts = { total: 0, byText: new Map() };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const read = frontendReader((text) => {
      counts.total += 1;
      const key = text.replace(/\s+/g, ' ').trim();
      counts.byText.set(key, (counts.byText.get(key) ?? 0) + 1);
    });
    client.on('data', (chunk: Buffer) => {
      read(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    /** A copy of the counts now, to subtract from later ones. */
    snapshot(): StatementCounts {
      return { total: counts.total, byText: new Map(counts.byText) };
    },
    /** Statements executed since the snapshot, by text. */
    since(before: StatementCounts): StatementCounts {
      const byText = new Map<string, number>();
      for (const [text, n] of counts.byText) {
        const d = n - (before.byText.get(text) ?? 0);
        if (d > 0) byText.set(text, d);
      }
      return { total: counts.total - before.total, byText };
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
