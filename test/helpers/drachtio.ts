// A real drachtio-server for tests (../shared/drachtio/install.sh prints its binary; .ci/run sets
// CC_CSAT_DRACHTIO), and a bare SIP-over-UDP client for INVITEs whose every header a test chooses:
// the front door's refusals, digest challenges, a caller who cancels during setup. Every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ASTERISK_DEV, eventually, freeUdpPorts, killOnExit, runSippScript, sippCallArgs, type SippRun } from './real-asterisk.js';
import { freePort, within } from './wait.js';

export class DrachtioServer {
  private log = '';
  private child!: ChildProcess;

  private constructor(
    private readonly binary: string,
    private readonly conf: string,
    readonly adminPort: number,
    readonly sipPort: number,
    readonly secret: string,
    private readonly dir: string,
  ) {}

  static async start(binary: string): Promise<DrachtioServer> {
    const dir = mkdtempSync(join(tmpdir(), 'cc-csat-drachtio-'));
    const adminPort = await freePort();
    const sipPort = await freeUdpPorts(1);
    const secret = randomBytes(12).toString('hex');
    const conf = join(dir, 'drachtio.conf.xml');
    writeFileSync(
      conf,
      `<drachtio>
  <admin port="${adminPort}" secret="${secret}">127.0.0.1</admin>
  <sip><contacts><contact>sip:127.0.0.1:${sipPort};transport=udp</contact></contacts></sip>
  <logging><console/><loglevel>info</loglevel></logging>
</drachtio>
`,
    );
    const server = new DrachtioServer(binary, conf, adminPort, sipPort, secret, dir);
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const child = spawn(this.binary, ['-f', this.conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    killOnExit(child);
    const keep = (chunk: Buffer): void => {
      this.log = (this.log + chunk.toString()).slice(-65_536);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const from = this.log.length;
    await eventually(
      () => {
        if (child.exitCode !== null) throw new Error(`drachtio-server exited (${child.exitCode})\n${this.log}`);
        // Its last start-up line: the admin port and the SIP stack are up.
        return this.log.slice(from).includes('Starting sofia event loop');
      },
      20_000,
      () => `drachtio-server to start\n${this.log}`,
      50,
    );
  }

  output(): string {
    return this.log;
  }

  /** SIGKILL, as a crash would (connected applications see their socket drop). */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await within(exited, 10_000, 'drachtio-server to exit after SIGKILL');
  }

  /** Starts it again on the same ports, with the same secret. */
  async restart(): Promise<void> {
    await this.kill();
    this.log = this.log.slice(-8_192);
    await this.launch();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await within(new Promise((resolve) => this.child.once('exit', resolve)), 10_000, 'drachtio-server to exit').catch(() => this.child.kill('SIGKILL'));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface SipResponse {
  readonly status: number;
  readonly reason: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly raw: string;
}

export interface InviteOptions {
  /** Request-URI user (default "csat") and parameters appended after the host. */
  readonly user?: string;
  readonly uriParams?: string;
  readonly headers?: Record<string, string>;
}

/** A SIP user agent over UDP on loopback, with one INVITE transaction at a time. */
export class SipUdpClient {
  private readonly socket: Socket;
  private readonly received: SipResponse[] = [];
  private readonly requests: string[] = [];
  readonly callId = `${randomBytes(8).toString('hex')}@cc-csat-test`;
  private readonly fromTag = randomBytes(4).toString('hex');
  private branch = '';
  private requestUri = '';
  private inviteHeaders: Record<string, string> = {};

  private constructor(
    readonly port: number,
    private readonly target: number,
    /** Where it sends from: another loopback address (127.0.0.2) is another peer to the front door. */
    readonly address: string,
  ) {
    this.socket = createSocket('udp4');
    this.socket.on('message', (data) => this.onMessage(data.toString()));
  }

  static async open(targetPort: number, address = '127.0.0.1'): Promise<SipUdpClient> {
    const port = await freeUdpPorts(1);
    const client = new SipUdpClient(port, targetPort, address);
    await new Promise<void>((resolve, reject) => {
      client.socket.once('error', reject);
      client.socket.bind(port, address, () => resolve());
    });
    return client;
  }

  close(): void {
    this.socket.close();
  }

  /** Sends an INVITE (a fresh transaction, the same Call-ID and CSeq+1 for an answer to a 401). */
  invite(options: InviteOptions = {}, cseq = 1): void {
    this.branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
    this.requestUri = `sip:${options.user ?? 'csat'}@127.0.0.1:${this.target}${options.uriParams ?? ''}`;
    this.inviteHeaders = options.headers ?? {};
    const sdp = ['v=0', `o=- 1 1 IN IP4 ${this.address}`, 's=-', `c=IN IP4 ${this.address}`, 't=0 0', `m=audio ${this.port + 2} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');
    this.send('INVITE', cseq, { ...this.inviteHeaders, 'Content-Type': 'application/sdp' }, sdp);
  }

  /** CANCELs the INVITE in progress (same branch, as RFC 3261 9.1 asks). */
  cancel(cseq = 1): void {
    this.send('CANCEL', cseq, {}, '');
  }

  /** ACK for a non-2xx final response (same branch, the response's To tag). */
  ackFailure(response: SipResponse, cseq = 1): void {
    this.send('ACK', cseq, {}, '', response.headers.get('to'));
  }

  private send(method: string, cseq: number, headers: Record<string, string>, body: string, to?: string): void {
    const lines = [
      `${method} ${this.requestUri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.address}:${this.port};branch=${this.branch};rport`,
      `From: "Caller" <sip:+15551230000@${this.address}:${this.port}>;tag=${this.fromTag}`,
      `To: ${to ?? `<${this.requestUri.split(';')[0]}>`}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:pbx@${this.address}:${this.port}>`,
      'Max-Forwards: 70',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    this.requests.push(method);
    this.socket.send(lines.join('\r\n'), this.target, '127.0.0.1');
  }

  private onMessage(text: string): void {
    const [head = ''] = text.split('\r\n\r\n');
    const [statusLine = '', ...headerLines] = head.split('\r\n');
    const match = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(statusLine);
    if (!match) {
      // A request to us (a BYE after a relay that answered): say OK so nobody retransmits.
      if (/^BYE /.test(statusLine)) this.socket.send(okFor(text), this.target, '127.0.0.1');
      return;
    }
    const headers = new Map<string, string>();
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    this.received.push({ status: Number(match[1]), reason: match[2]!, headers, raw: text });
  }

  /** The responses to `method` so far. */
  responses(method = 'INVITE'): SipResponse[] {
    return this.received.filter((response) => response.headers.get('cseq')?.endsWith(` ${method}`));
  }

  /** Waits (bounded) for the INVITE's final response (>= 200) and ACKs a failure. */
  async finalResponse(timeoutMs = 15_000, cseq = 1): Promise<SipResponse> {
    const response = await eventually(
      () => this.responses().find((candidate) => candidate.status >= 200 && candidate.headers.get('cseq') === `${cseq} INVITE`),
      timeoutMs,
      () => `a final response to INVITE (CSeq ${cseq}); got ${this.received.map((r) => r.status).join(', ') || 'nothing'}`,
      10,
    );
    if (response.status >= 300) this.ackFailure(response, cseq);
    return response;
  }
}

function okFor(request: string): string {
  const keep = request.split('\r\n').filter((line) => /^(via|from|to|call-id|cseq):/i.test(line));
  return ['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n');
}

/**
 * sipp as another PBX (asterisk-dev/sipp/transfer.sh): `calls` INVITEs to the front door with
 * X-CSAT-Call-Id `prefix`-N, the agent and queue; each caller presses `digit` (RFC 4733) during the
 * question. Resolves when sipp exits (0: every call ended with cc-csat's BYE).
 */
export async function sippTransfer(options: {
  frontDoorPort: number;
  digit: string;
  prefix: string;
  agent: string;
  queue: string;
  calls?: number;
  rate?: number;
  timeoutMs?: number;
  /** An asterisk-dev/sipp scenario other than pbx-transfer.xml, e.g. pbx-hangup.xml. */
  scenario?: string;
}): Promise<SippRun> {
  const calls = options.calls ?? 1;
  const timeoutMs = options.timeoutMs ?? 120_000;
  return runSippScript(
    join(ASTERISK_DEV, 'sipp', 'transfer.sh'),
    [
      options.digit,
      `127.0.0.1:${options.frontDoorPort}`,
      ...(await sippCallArgs(calls, options.rate ?? 10)),
      '-timeout', `${Math.ceil(timeoutMs / 1000)}s`,
    ],
    {
      timeoutMs,
      what: `sipp (${calls} transfer(s))`,
      env: { CALL_PREFIX: options.prefix, AGENT: options.agent, QUEUE: options.queue, ...(options.scenario && { SCENARIO: options.scenario }) },
    },
  );
}
