/**
 * Model-based test (fast-check commands) of the local life cycle of a `Stream` from
 * `nodeNetwork()`: open → ended and/or destroyed, against a model that says which calls must
 * succeed, which must reject with `CLOSED`, and which bytes the peer must receive.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTransportError, nodeNetwork, type Stream, type StreamListener } from '../src/index';
import { concat } from '../src/testing/helpers';
import { expectNoLeftovers, type HandleCounts, openHandles } from './handles';

interface Model {
  sent: Uint8Array[];
  ended: boolean;
  destroyed: boolean;
}

interface Real {
  client: Stream;
}

const isClosed = (e: unknown) => isTransportError(e, 'CLOSED');

class WriteCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly bytes: Uint8Array) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    if (model.ended || model.destroyed) {
      await expect(real.client.write(this.bytes)).rejects.toSatisfy(isClosed);
      return;
    }
    await real.client.write(this.bytes);
    model.sent.push(this.bytes);
  }
  toString = () => `write(${this.bytes.length})`;
}

class EndCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    if (model.destroyed && !model.ended) {
      await expect(real.client.end()).rejects.toSatisfy(isClosed);
      return;
    }
    if (model.destroyed) return; // end() before destroy(): its outcome depends on timing
    await real.client.end();
    model.ended = true;
  }
  toString = () => 'end()';
}

class DestroyCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    real.client.destroy();
    model.destroyed = true;
    expect(await real.client.closed).toBeUndefined();
  }
  toString = () => 'destroy()';
}

let baseline: HandleCounts;
let listener: StreamListener;
let onServer: ((stream: Stream) => void) | undefined;

beforeAll(async () => {
  baseline = openHandles();
  listener = await nodeNetwork().listen({ host: '127.0.0.1' }, (s) => onServer?.(s));
});

afterAll(async () => {
  await listener.close();
  await expectNoLeftovers(baseline);
});

/** Everything the server receives, and how its reading ended. */
function serve(): Promise<{ bytes: Uint8Array; error: unknown; stream: Stream }> {
  return new Promise((resolve) => {
    onServer = async (stream) => {
      const chunks: Uint8Array[] = [];
      let error: unknown;
      try {
        for await (const chunk of stream) chunks.push(chunk);
        await stream.end();
      } catch (e) {
        error = e;
        stream.destroy();
      }
      resolve({ bytes: concat(chunks), error, stream });
    };
  });
}

describe('Stream life cycle (model-based)', () => {
  it('writes, end and destroy behave as the model says; the peer gets what was sent', async () => {
    const commands = fc.commands(
      [
        fc.uint8Array({ maxLength: 40_000 }).map((b) => new WriteCommand(b)),
        fc.constant(new EndCommand()),
        fc.constant(new DestroyCommand()),
      ],
      { maxCommands: 12 },
    );
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const served = serve();
        const client = await nodeNetwork({ highWaterMark: 16 * 1024 }).dial(listener.localAddress);
        const model: Model = { sent: [], ended: false, destroyed: false };
        await fc.asyncModelRun(() => ({ model, real: { client } }), cmds);
        if (!model.ended && !model.destroyed) {
          await client.end();
          model.ended = true;
        }
        const { bytes, error, stream } = await served;
        const sent = concat(model.sent);
        if (model.destroyed) {
          // A reset may drop what was still in flight: the peer got a prefix, or everything.
          expect(sent.subarray(0, bytes.length)).toEqual(bytes);
          if (error !== undefined) expect(isTransportError(error, 'CONNECTION_RESET')).toBe(true);
        } else {
          expect(error).toBeUndefined();
          expect(bytes).toEqual(sent);
          expect(await client.closed).toBeUndefined();
        }
        client.destroy();
        await client.closed;
        await stream.closed;
      }),
      { numRuns: 100 },
    );
  });
});
