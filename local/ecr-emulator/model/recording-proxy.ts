/**
 * A recording HTTP proxy in front of an ECR endpoint: every awsJson1_1 call that passes through is
 * kept whole (operation from X-Amz-Target, request body, status, response body), for validation
 * against the model. Clients point at `endpoint` as they would at the emulator.
 */
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  operation: string;
  request: unknown;
  status: number;
  response: unknown;
}

export interface RecordingProxy {
  endpoint: string;
  calls: RecordedCall[];
  close(): Promise<void>;
}

const readAll = async (stream: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

const parse = (bytes: Buffer): unknown => {
  const text = bytes.toString('utf8');
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const calls: RecordedCall[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      const forwarded = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          void readAll(answer).then((bytes) => {
            calls.push({
              operation: target.split('.').pop() ?? target,
              request: parse(body),
              status: answer.statusCode ?? 0,
              response: parse(bytes),
            });
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(bytes);
          });
        },
      );
      forwarded.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      forwarded.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
