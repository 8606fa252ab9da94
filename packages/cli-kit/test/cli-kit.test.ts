import { Command } from 'commander';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addOutputOptions,
  colorEnabled,
  createProgram,
  envelope,
  errorLine,
  exitCodeFor,
  InterruptedError,
  Interrupts,
  jsonLine,
  Output,
  parseEnvelope,
  parseHostPort,
  parseInteger,
  parsePort,
  parsePositive,
  parseSize,
  runProgram,
  UsageError,
  verbosityFrom,
} from '../src/index';

const sink = (isTTY = false) => {
  const chunks: string[] = [];
  return { chunks, isTTY, write: (t: string) => chunks.push(t), text: () => chunks.join('') };
};

describe('the JSON envelope', () => {
  it('puts event and time first, and a field cannot override them', () => {
    const line = jsonLine('piece', { index: 3, event: 'x', time: -1 }, 1234);
    expect(line).toBe('{"event":"piece","time":1234,"index":3}\n');
    expect(parseEnvelope(line)).toEqual({ event: 'piece', time: 1234, index: 3 });
  });

  it('parseEnvelope accepts what envelope makes and never throws on other text', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.dictionary(fc.string(), fc.jsonValue()),
        (name, fields) => {
          const parsed = parseEnvelope(JSON.stringify(envelope(name, fields, 5)));
          expect(parsed?.event).toBe(name);
          expect(parsed?.time).toBe(5);
        },
      ),
    );
    fc.assert(fc.property(fc.string(), (text) => void parseEnvelope(text)));
    expect(parseEnvelope('{"type":"x"}')).toBeUndefined();
    expect(parseEnvelope('{"time":"1","event":"x"}')).toBeUndefined();
    expect(parseEnvelope('[1]')).toBeUndefined();
  });
});

describe('parsing', () => {
  it('host:port in its three forms, and one message for everything else', () => {
    expect(parseHostPort('127.0.0.1:6881')).toEqual({ host: '127.0.0.1', port: 6881 });
    expect(parseHostPort('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseHostPort('localhost:1')).toEqual({ host: '127.0.0.1', port: 1 });
    expect(parseHostPort('example.org:443')).toEqual({ host: 'example.org', port: 443 });
    for (const bad of [
      '',
      '6881',
      '1.2.3.4',
      '1.2.3.4:0',
      '1.2.3.4:65536',
      '::1:80',
      '[x]:1',
      'a:b',
    ]) {
      expect(() => parseHostPort(bad, '--peer')).toThrow(/^--peer: expected HOST:PORT/);
      try {
        parseHostPort(bad);
      } catch (error) {
        expect(exitCodeFor(error)).toBe(2);
      }
    }
  });

  it('every parser returns a value or throws a UsageError, for any string', () => {
    const parsers = [
      (t: string) => parseHostPort(t, 'x'),
      (t: string) => parsePort(t, 'x'),
      (t: string) => parseSize(t, 'x'),
      (t: string) => parsePositive(t, 'x'),
      (t: string) => parseInteger(t, 'x', -5, 5),
    ];
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.stringMatching(/^[\d.:[\]a-fkmgib ]{0,12}$/)),
        (text) => {
          for (const parse of parsers) {
            try {
              parse(text);
            } catch (error) {
              expect(error).toBeInstanceOf(UsageError);
              expect(exitCodeFor(error)).toBe(2);
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('ports, sizes, positive numbers and integers', () => {
    expect(parsePort('0', '--port')).toBe(0);
    expect(() => parsePort('65536', '--port')).toThrow(UsageError);
    expect(parseSize('256k', '--x')).toBe(262144);
    expect(parseSize('1.5MiB', '--x')).toBe(1.5 * 1024 * 1024);
    expect(parseSize('2G', '--x')).toBe(2 * 1024 ** 3);
    expect(() => parseSize('fast', '--max-download-rate')).toThrow(
      '--max-download-rate must be a size like 262144, 256k or 4M, got "fast"',
    );
    expect(parsePositive('0.5', '--seed-ratio')).toBe(0.5);
    expect(() => parsePositive('0', '--timeout')).toThrow(UsageError);
    expect(() => parsePositive('1.5', '--runs', true)).toThrow(UsageError);
    expect(parseInteger('-3', '--seed', -10, 10)).toBe(-3);
    expect(() => parseInteger('1e3', '--seed', 0, 10_000)).toThrow(UsageError);
  });
});

describe('colour per stream', () => {
  it('follows NO_COLOR, FORCE_COLOR and whether that stream is a terminal', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorEnabled({ isTTY: false }, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
  });

  it('an Output colours stderr lines only when stderr is a terminal', () => {
    for (const tty of [true, false]) {
      const stderr = sink(tty);
      const out = new Output({ program: 'p', stdout: sink(true), stderr, env: {} });
      out.warn('careful');
      expect(stderr.text().includes('\x1b[')).toBe(tty);
    }
  });
});

describe('Output', () => {
  it('routes each kind by --json, -q and -v', () => {
    const run = (json: boolean, flags: { quiet?: boolean; verbose?: boolean }) => {
      const stdout = sink();
      const stderr = sink();
      const out = new Output({
        program: 'p',
        json,
        verbosity: verbosityFrom(flags),
        stdout,
        stderr,
        now: () => 7,
        env: {},
      });
      out.result('R');
      out.event('e', { a: 1 });
      out.info('I');
      out.detail('D');
      out.warn('W');
      expect(out.error(new UsageError('bad'))).toBe(2);
      return { stdout: stdout.text(), stderr: stderr.text() };
    };
    expect(run(false, {})).toEqual({
      stdout: 'R\n',
      stderr: 'I\nwarning: W\np: error: bad\n',
    });
    expect(run(false, { quiet: true })).toEqual({ stdout: 'R\n', stderr: 'p: error: bad\n' });
    expect(run(false, { verbose: true }).stderr).toBe('I\nD\nwarning: W\np: error: bad\n');
    expect(run(true, {})).toEqual({
      stdout:
        '{"event":"e","time":7,"a":1}\n{"event":"error","time":7,"code":"USAGE","message":"bad","exitCode":2}\n',
      stderr: 'p: error: bad\n',
    });
  });

  it('an error line is one line whatever the message', () => {
    expect(errorLine('p', new Error('first\nsecond'))).toBe('p: error: first');
    expect(errorLine('p', 'plain')).toBe('p: error: plain');
  });
});

describe('a program with the shared conventions', () => {
  const build = (seen: string[]) => {
    const program = createProgram({ name: 'demo', version: '1.2.3', description: 'd' });
    addOutputOptions(program.command('go').argument('<n>').option('--fail', 'fail')).action(
      (n: string, o: { fail?: boolean; json?: boolean }) => {
        seen.push(n);
        if (o.fail) throw Object.assign(new Error('it broke'), { code: 'BROKE' });
        if (n === 'bad') throw new UsageError('n must not be bad');
      },
    );
    return program;
  };
  const capture = async (args: string[]) => {
    const writes: string[] = [];
    const errWrite = process.stderr.write;
    const outWrite = process.stdout.write;
    process.stderr.write = ((t: string) => writes.push(`E:${t}`) > 0) as typeof errWrite;
    process.stdout.write = ((t: string) => writes.push(`O:${t}`) > 0) as typeof outWrite;
    try {
      const seen: string[] = [];
      const code = await runProgram(build(seen), ['node', 'demo', ...args]);
      return { code, writes, seen };
    } finally {
      process.stderr.write = errWrite;
      process.stdout.write = outWrite;
      process.exitCode = undefined;
    }
  };

  it('exits 0 for --version and --help, 2 with one line for usage errors, 1 for failures', async () => {
    expect(await capture(['--version'])).toMatchObject({ code: 0, writes: ['O:1.2.3\n'] });
    expect((await capture(['go', '--help'])).code).toBe(0);
    const unknown = await capture(['go', '1', '--nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.writes).toEqual([
      "E:demo: error: unknown option '--nope' (see: demo go --help)\n",
    ]);
    const missing = await capture(['go']);
    expect(missing.code).toBe(2);
    expect(missing.writes).toHaveLength(1);
    const usage = await capture(['go', 'bad', '--json']);
    expect(usage.code).toBe(2);
    expect(usage.writes.map((w) => w.slice(0, 2))).toEqual(['O:', 'E:']);
    expect(parseEnvelope(usage.writes[0]!.slice(2))).toMatchObject({
      event: 'error',
      code: 'USAGE',
      exitCode: 2,
    });
    const failed = await capture(['go', '1', '--fail']);
    expect(failed).toMatchObject({ code: 1, writes: ['E:demo: error: it broke\n'] });
    expect((await capture(['go', '1', '-q', '-v'])).code).toBe(2);
    expect((await capture([])).code).toBe(2);
  });

  it('is a commander Command', () => {
    expect(createProgram({ name: 'x', version: '0', description: '' })).toBeInstanceOf(Command);
  });
});

describe('Interrupts', () => {
  it('the first signal aborts and resolves next(); a second exits 130; close() lets go', async () => {
    const exits: number[] = [];
    const before = process.listenerCount('SIGINT');
    const interrupts = new Interrupts((code) => exits.push(code));
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    const next = interrupts.next();
    process.emit('SIGINT');
    expect(await next).toBe('SIGINT');
    expect(interrupts.signal.aborted).toBe(true);
    expect(interrupts.signal.reason).toBeInstanceOf(InterruptedError);
    expect(interrupts.signal.reason).toMatchObject({ code: 'INTERRUPTED', signal: 'SIGINT' });
    expect(exits).toEqual([]);
    process.emit('SIGTERM');
    expect(exits).toEqual([130]);
    interrupts.close();
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});
